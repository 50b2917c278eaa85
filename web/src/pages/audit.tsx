import { useEffect, useState } from 'preact/hooks';
import { call, enc, type AuditEntry as Entry, type AuditPage } from '../api';
import { Empty, ErrorText, Page, Table, when } from '../ui';

export function AuditPage() {
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (before?: string) => {
    setError(null);
    try {
      const page = await call<AuditPage>(
        'GET',
        `/audit?limit=50${before ? `&before=${enc(before)}` : ''}`,
      );
      setEntries(before ? [...(entries ?? []), ...page.entries] : page.entries);
      setNext(page.next);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, []);
  return (
    <Page title="Audit log">
      <p class="help">Every management change, newest first: who, what, when, before and after.</p>
      <ErrorText error={error} />
      {entries && entries.length === 0 ? <Empty>No changes have been recorded yet.</Empty> : null}
      {entries && entries.length > 0 ? (
        <Table label="Audit entries">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{when(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>
                  <code>{e.target}</code>
                </td>
                <td>
                  <details>
                    <summary>Before and after</summary>
                    <pre>{JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {next ? (
        <button type="button" onClick={() => load(next)}>
          Older entries
        </button>
      ) : null}
    </Page>
  );
}
