import { useState } from 'preact/hooks';
import { ApiError, call, session } from '../api';
import { ErrorText, Page } from '../ui';

export function SignIn({ notice }: { notice?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('GET', '/devices?limit=1', undefined, token.trim());
      session.signIn(token.trim());
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new Error(`That token was refused: ${err.message}`)
          : err,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <Page title="Sign in to mqtt-authd">
        {notice ? <p role="status">{notice}</p> : null}
        <form onSubmit={submit}>
          <label for="token">Admin token</label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            aria-describedby="token-help"
          />
          <p id="token-help" class="help">
            A token from ADMIN_TOKENS or ADMIN_TOKEN_FILE. It is kept in this tab only and forgotten
            when you sign out or close the tab.
          </p>
          <ErrorText error={error} />
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      </Page>
    </main>
  );
}
