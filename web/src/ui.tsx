// Small shared pieces: messages said in words, badges, the one-time password panel.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  const message =
    error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · mqtt-authd`;
    h.current?.focus();
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={h}>
        {title}
      </h1>
      {children}
    </section>
  );
}

/** A device's new password, shown this once. */
export function OneTimePassword({ id, password }: { id: string; password: string }) {
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(password);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying is not allowed here: select the password and copy it by hand.');
    }
  };
  return (
    <div class="once" role="region" aria-label="One-time password">
      <p>
        <strong>Password of {id}:</strong> it will not be shown again. Store it now.
      </p>
      <p class="row">
        <code class="secret" data-testid="password">
          {password}
        </code>
        <button type="button" onClick={copy}>
          Copy password
        </button>
      </p>
      <p role="status">{copied}</p>
    </div>
  );
}

export function Table({ label, children }: { label: string; children: ComponentChildren }) {
  // Focusable, so keyboard users can scroll a wide table on a narrow screen.
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={label}>
      <table>{children}</table>
    </div>
  );
}

export const when = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString() : 'never';

/** Cursor paging: the cursor of this page and a stack of the pages before it. */
export function useCursor() {
  const [before, setBefore] = useState<(string | undefined)[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  return {
    cursor,
    reset() {
      setBefore([]);
      setCursor(undefined);
    },
    pager(next: string | null | undefined) {
      return (
        <div class="row pager">
          <button
            type="button"
            disabled={before.length === 0}
            onClick={() => {
              const prev = [...before];
              setCursor(prev.pop());
              setBefore(prev);
            }}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!next}
            onClick={() => {
              if (!next) return;
              setBefore([...before, cursor]);
              setCursor(next);
            }}
          >
            Next page
          </button>
        </div>
      );
    },
  };
}

/** A form's outcome: an error said in words, or a status line once the action succeeded. */
export function useOutcome() {
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  return {
    error,
    status,
    setError,
    async run(action: () => Promise<string | void>): Promise<void> {
      setError(null);
      setStatus('');
      try {
        setStatus((await action()) ?? '');
      } catch (err) {
        setError(err);
      }
    },
    view: (
      <>
        <ErrorText error={error} />
        <p role="status">{status}</p>
      </>
    ),
  };
}
