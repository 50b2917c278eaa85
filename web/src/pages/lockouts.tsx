import { useEffect, useState } from 'preact/hooks';
import { call, enc, type Lockout, type LockoutPage } from '../api';
import { Empty, ErrorText, Page, Table, useCursor } from '../ui';

export function LockoutsPage() {
  const { cursor, pager } = useCursor();
  const [page, setPage] = useState<LockoutPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const [reload, setReload] = useState(0);
  useEffect(() => {
    call<LockoutPage>('GET', `/lockouts?limit=50${cursor ? `&cursor=${enc(cursor)}` : ''}`).then(
      setPage,
      setError,
    );
  }, [cursor, reload]);
  const clear = async (l: Lockout) => {
    setError(null);
    try {
      // The name goes in the query: a path would normalise away names such as "..".
      await call('DELETE', `/lockouts?${l.kind}=${enc(l.name)}`);
      setStatus(
        `Lockout of ${l.kind === 'username' ? 'user name' : 'client id'} ${l.name} cleared.`,
      );
      setReload(reload + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Page title="Lockouts">
      <p class="help">
        User names and client ids locked after repeated failed logins. Clearing one lets it try
        again at once.
      </p>
      <p role="status">{status}</p>
      <ErrorText error={error} />
      {page && page.lockouts.length === 0 ? <Empty>Nothing is locked out.</Empty> : null}
      {page && page.lockouts.length > 0 ? (
        <Table label="Lockouts">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Name</th>
              <th scope="col">Failures</th>
              <th scope="col">Time left</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {page.lockouts.map((l) => (
              <tr key={`${l.kind}:${l.name}`}>
                <td>{l.kind === 'username' ? 'user name' : 'client id'}</td>
                <td>
                  <code>{l.name}</code>
                  {l.truncated ? ' (shortened)' : ''}
                </td>
                <td>{l.failures}</td>
                <td>{Math.ceil(l.retryAfterS / 60)} min</td>
                <td>
                  {l.truncated ? (
                    'clear with the full name via the API'
                  ) : (
                    <button type="button" onClick={() => clear(l)}>
                      Clear lockout of {l.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {pager(page?.next)}
    </Page>
  );
}
