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
