// A device's sessions as the brokers report them (docs/presence.md), with Disconnect: every
// session ends, the device is not revoked.
import { useEffect, useState } from 'preact/hooks';
import { call, enc, type DisconnectAnswer, type SessionList } from '../api';
import { Empty, ErrorText, Table, useOutcome, when } from '../ui';

const PROTOCOLS: Record<number, string> = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5' };

export function DeviceSessions({ id }: { id: string }) {
  const [list, setList] = useState<SessionList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const outcome = useOutcome();

  useEffect(() => {
    let live = true;
    call<SessionList>('GET', `/sessions?limit=1000&username=${enc(id)}`).then(
      (l) => live && setList(l),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [id, reload]);

  const disconnect = () =>
    outcome.run(async () => {
      const a = await call<DisconnectAnswer>('POST', `/devices/${enc(id)}/disconnect`);
      setTimeout(() => setReload((n) => n + 1), 1000);
      return a.sessions === 1
        ? 'Asked the brokers to end 1 session. The device may connect again.'
        : `Asked the brokers to end ${a.sessions} sessions. The device may connect again.`;
    });

  return (
    <section aria-labelledby="sessions-h">
      <h2 id="sessions-h">Sessions</h2>
      <ErrorText error={error} />
      {list && list.sessions.length === 0 ? (
        <Empty>
          No broker reports a session of this device. Presence needs the mqtt-authd plugin: brokers
          on mosquitto-go-auth report none.
        </Empty>
      ) : null}
      {list && list.sessions.length > 0 ? (
        <Table label="Sessions">
          <thead>
            <tr>
              <th scope="col">Broker</th>
              <th scope="col">Client id</th>
              <th scope="col">Address</th>
              <th scope="col">Protocol</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {list.sessions.map((s) => (
              <tr key={`${s.broker}\n${s.clientid}`}>
                <td>{s.broker}</td>
                <td>{s.clientid}</td>
                <td>{s.address}</td>
                <td>{PROTOCOLS[s.protocol] ?? s.protocol}</td>
                <td>{when(s.connectedAt)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      <div class="row">
        <button type="button" onClick={() => void disconnect()}>
          Disconnect
        </button>
        <button type="button" onClick={() => setReload((n) => n + 1)}>
          Refresh sessions
        </button>
      </div>
      <p class="help">
        Disconnect ends every session of this device on every broker with the mqtt-authd plugin. It
        is not a revocation: to keep the device out, disable it.
      </p>
      {outcome.view}
    </section>
  );
}
