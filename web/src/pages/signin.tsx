import { useState } from 'preact/hooks';
import { ApiError, call, session } from '../api';
import { ErrorText, Page } from '../ui';

/**
 * The token the service accepts for what was pasted: the string as it is, else, when it has
 * the form `name:token` (an entry of ADMIN_TOKENS as `mqtt-authd token` prints it), the part
 * after the first colon. The whole string goes first, because a token may itself contain a
 * colon (`ops:ab:cd` holds the token `ab:cd`, which must not be cut to `cd`); the service reads
 * an entry's name up to its first colon, so the part after it is the token.
 */
async function accepted(pasted: string): Promise<string> {
  try {
    await call('GET', '/devices?limit=1', undefined, pasted);
    return pasted;
  } catch (err) {
    const at = pasted.indexOf(':');
    if (!(err instanceof ApiError && err.status === 401) || at <= 0) throw err;
    const token = pasted.slice(at + 1);
    await call('GET', '/devices?limit=1', undefined, token);
    return token;
  }
}

export function SignIn({ notice }: { notice?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      session.signIn(await accepted(token.trim()));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new Error(
              `That token was refused: ${err.message}. Paste the part after the first colon of ` +
                'an entry of ADMIN_TOKENS or a line of ADMIN_TOKEN_FILE (or the whole ' +
                'name:token entry), as the service runs with it now.',
            )
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
            An entry of ADMIN_TOKENS or a line of ADMIN_TOKEN_FILE, as <code>name:token</code> (what{' '}
            <code>mqtt-authd token</code> prints) or only the token after the colon. It is kept in
            this tab only and forgotten when you sign out or close the tab.
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
