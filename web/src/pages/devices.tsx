import { useEffect, useState } from 'preact/hooks';
import { call, type DeviceList, type DeviceWithPassword } from '../api';
import { href } from '../router';
import { Badge, Empty, ErrorText, OneTimePassword, Page, Table, useCursor, when } from '../ui';

function NewDevice({ onCreated }: { onCreated: (d: DeviceWithPassword) => void }) {
  const [id, setId] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const d = await call<DeviceWithPassword>(
        'POST',
        '/devices',
        id.trim() ? { id: id.trim() } : {},
      );
      setId('');
      onCreated(d);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="inline" onSubmit={submit} aria-label="New device">
      <label for="new-id">New device id</label>
      <input
        id="new-id"
        value={id}
        placeholder="generated when empty"
        aria-describedby="new-id-help"
        onInput={(e) => setId(e.currentTarget.value)}
      />
      <button type="submit">Create device</button>
      <p id="new-id-help" class="help">
        The id is the MQTT username. The device gets the common rules until you add its own.
      </p>
      <ErrorText error={error} />
    </form>
  );
}

export function DevicesPage() {
  const [prefix, setPrefix] = useState('');
  const { cursor, reset, pager } = useCursor();
  const [list, setList] = useState<DeviceList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<DeviceWithPassword | null>(null);
  const [reload, setReload] = useState(0);
  const [shown, setShown] = useState<'all' | 'online' | 'offline'>('all');
  const rows = (list?.devices ?? []).filter(
    (d) => shown === 'all' || d.online === (shown === 'online'),
  );

  useEffect(() => {
    let live = true;
    const q = new URLSearchParams({ limit: '25' });
    if (prefix) q.set('prefix', prefix);
    if (cursor) q.set('cursor', cursor);
    setError(null);
    call<DeviceList>('GET', `/devices?${q}`).then(
      (l) => live && setList(l),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [prefix, cursor, reload]);

  const search = (value: string) => {
    setPrefix(value);
    reset();
  };

  return (
    <Page title="Devices">
      <NewDevice
        onCreated={(d) => {
          setCreated(d);
          setReload(reload + 1);
        }}
      />
      {created?.password ? (
        <div>
          <OneTimePassword id={created.id} password={created.password} />
          <p>
            <a href={href('devices', created.id)}>Open {created.id}</a>
          </p>
        </div>
      ) : null}
      <form class="inline" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="prefix">Search by id prefix</label>
        <input
          id="prefix"
          type="search"
          value={prefix}
          onInput={(e) => search(e.currentTarget.value)}
        />
        <label for="shown">Show</label>
        <select
          id="shown"
          value={shown}
          onChange={(e) => setShown(e.currentTarget.value as 'all' | 'online' | 'offline')}
        >
          <option value="all">all devices</option>
          <option value="online">online only</option>
          <option value="offline">offline only</option>
        </select>
      </form>
      <p class="help">
        Online: a broker with the mqtt-authd plugin reports a session now (presence needs the
        mqtt-authd plugin; go-auth brokers report none). The filter applies to this page.
      </p>
      <ErrorText error={error} />
      {list && list.devices.length === 0 ? (
        <Empty>
          {prefix ? `No device id starts with "${prefix}".` : 'No devices are registered yet.'}
        </Empty>
      ) : null}
      {list && list.devices.length > 0 && rows.length === 0 ? (
        <Empty>No device on this page is {shown}.</Empty>
      ) : null}
      {rows.length > 0 ? (
        <Table label="Devices">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Online</th>
              <th scope="col">State</th>
              <th scope="col">Own rules</th>
              <th scope="col">Client ids</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id}>
                <td>
                  <a href={href('devices', d.id)}>{d.id}</a>
                </td>
                <td>
                  {d.online ? <Badge kind="on">online</Badge> : <Badge kind="idle">offline</Badge>}
                </td>
                <td>
                  {d.superuser ? <Badge kind="super">superuser</Badge> : null}
                  {d.damaged?.length ? <Badge kind="off">damaged</Badge> : null}
                  {d.disabled ? (
                    <Badge kind="off">disabled</Badge>
                  ) : (
                    <Badge kind="on">enabled</Badge>
                  )}
                </td>
                <td>{d.acl.length}</td>
                <td>{d.clientIds.length ? d.clientIds.join(', ') : 'any'}</td>
                <td>{when(d.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {pager(list?.next)}
    </Page>
  );
}
