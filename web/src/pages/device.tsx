import { useEffect, useState } from 'preact/hooks';
import { call, enc, type AclRule, type Device, type DeviceWithPassword } from '../api';
import { go, href } from '../router';
import { Badge, ErrorText, OneTimePassword, Page, useOutcome, when } from '../ui';
import { AclEditor } from './acl-editor';
import { DeviceSessions } from './sessions';

function ClientIds({ device, patch }: { device: Device; patch: (b: object) => Promise<void> }) {
  const [text, setText] = useState(device.clientIds.join('\n'));
  const outcome = useOutcome();
  const submit = (e: Event) => {
    e.preventDefault();
    const clientIds = text
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    void outcome.run(async () => {
      await patch({ clientIds });
      return clientIds.length ? 'Client ids saved.' : 'Saved: any client id may connect.';
    });
  };
  return (
    <form onSubmit={submit} aria-label="Client ids">
      <label for="client-ids">Client ids, one per line (%u is the username)</label>
      <textarea
        id="client-ids"
        rows={3}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <p class="help">Empty: the device may connect with any client id.</p>
      <button type="submit">Save client ids</button>
      {outcome.view}
    </form>
  );
}

function Metadata({ device, patch }: { device: Device; patch: (b: object) => Promise<void> }) {
  const [text, setText] = useState(JSON.stringify(device.metadata, null, 2));
  const outcome = useOutcome();
  const submit = (e: Event) => {
    e.preventDefault();
    void outcome.run(async () => {
      let metadata: unknown;
      try {
        metadata = JSON.parse(text || '{}');
      } catch {
        throw new Error('Metadata must be a JSON object, for example {"site": "north"}.');
      }
      await patch({ metadata });
      return 'Metadata saved.';
    });
  };
  return (
    <form onSubmit={submit} aria-label="Metadata">
      <label for="metadata">Metadata (JSON object)</label>
      <textarea
        id="metadata"
        rows={4}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <button type="submit">Save metadata</button>
      {outcome.view}
    </form>
  );
}

export function DevicePage({ id }: { id: string }) {
  const [device, setDevice] = useState<Device | null>(null);
  const [password, setPassword] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const outcome = useOutcome();
  const act = outcome.run;
  const path = `/devices/${enc(id)}`;

  useEffect(() => {
    setDevice(null);
    setPassword(null);
    call<Device>('GET', path).then(setDevice, outcome.setError);
  }, [path]);

  const patch = async (body: object) => {
    setDevice(await call<Device>('PATCH', path, body));
  };

  if (!device) {
    return (
      <Page title={`Device ${id}`}>
        {outcome.error ? <ErrorText error={outcome.error} /> : <p role="status">Loading…</p>}
        <p>
          <a href="#/devices">Back to devices</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title={`Device ${device.id}`}>
      <p>
        {device.superuser ? <Badge kind="super">superuser</Badge> : null}
        {device.disabled ? <Badge kind="off">disabled</Badge> : <Badge kind="on">enabled</Badge>}
        <span class="help">
          Created {when(device.createdAt)}, changed {when(device.updatedAt)}.
          {device.hashScheme ? ` Password hash: ${device.hashScheme}.` : ''}
        </span>
      </p>
      {device.damaged?.length ? (
        <div class="confirm" role="alert">
          <p>
            <strong>Damaged record:</strong> what Redis holds for this device does not decode, so it
            is refused every check until these fields are saved again:
          </p>
          <ul>
            {device.damaged.map((d) => (
              <li key={d.field}>
                {d.field}: {d.reason}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="row">
        <button
          type="button"
          onClick={() =>
            act(async () => {
              await patch({ disabled: !device.disabled });
              return device.disabled
                ? 'Device enabled.'
                : 'Device disabled: it is refused from now on.';
            })
          }
        >
          {device.disabled ? 'Enable device' : 'Disable device'}
        </button>
        <button
          type="button"
          onClick={() =>
            act(async () => {
              const d = await call<DeviceWithPassword>('POST', `${path}/password`, {});
              setPassword(d.password);
              return 'Password rotated: the old one is refused from now on.';
            })
          }
        >
          Rotate password
        </button>
        <a class="button" href={href('test', device.id)}>
          Test access
        </a>
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete device
        </button>
      </div>
      {confirming ? (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
          <p id="confirm-text">
            Delete {device.id}? It is refused from then on, and this cannot be undone.
          </p>
          <button
            type="button"
            class="danger"
            onClick={() =>
              act(async () => {
                await call('DELETE', path);
                go('devices');
              })
            }
          >
            Yes, delete {device.id}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : null}
      {outcome.view}
      {password ? <OneTimePassword id={device.id} password={password} /> : null}
      <DeviceSessions id={device.id} />
      <h2>Own rules</h2>
      <AclEditor
        label="Own rules"
        rules={device.acl}
        save={async (acl: AclRule[]) =>
          setDevice(await call<Device>('PUT', `${path}/acl`, { acl }))
        }
      />
      <h2>Client ids</h2>
      <ClientIds device={device} patch={patch} />
      <h2>Metadata</h2>
      <Metadata device={device} patch={patch} />
    </Page>
  );
}
