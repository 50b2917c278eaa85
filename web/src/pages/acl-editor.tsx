// Edits a list of ACL rules; the API's per-rule validation errors are shown next to the rule.
import { useState } from 'preact/hooks';
import { ApiError, type AclRule } from '../api';
import { ErrorText } from '../ui';

const ACCESS: AclRule['access'][] = ['read', 'write', 'readwrite', 'deny'];

export function AclEditor({
  label,
  rules,
  save,
}: {
  label: string;
  rules: AclRule[];
  save: (rules: AclRule[]) => Promise<unknown>;
}) {
  const [draft, setDraft] = useState<AclRule[]>(rules);
  const [errors, setErrors] = useState<Record<number, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const set = (i: number, patch: Partial<AclRule>) =>
    setDraft(draft.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    setStatus('');
    try {
      await save(draft);
      setStatus('Rules saved.');
    } catch (err) {
      const perRule: Record<number, string> = {};
      if (err instanceof ApiError) {
        for (const d of err.details) {
          const m = /^body\.acl\.(\d+)/.exec(d.field);
          if (m) perRule[Number(m[1])] ??= d.message;
        }
      }
      setErrors(perRule);
      setError(Object.keys(perRule).length ? new Error('Not saved: fix the marked rules.') : err);
    }
  };
  const id = label.toLowerCase().replace(/\W+/g, '-');
  return (
    <form onSubmit={submit} aria-label={label}>
      {draft.length === 0 ? (
        <p class="empty">No rules: nothing is granted by this list.</p>
      ) : (
        <ol class="rules">
          {draft.map((r, i) => (
            <li key={i} class={errors[i] ? 'rule invalid' : 'rule'} data-testid="rule">
              <label for={`${id}-p-${i}`}>Pattern {i + 1}</label>
              <input
                id={`${id}-p-${i}`}
                value={r.pattern}
                aria-invalid={errors[i] ? 'true' : undefined}
                aria-describedby={errors[i] ? `${id}-e-${i}` : undefined}
                onInput={(e) => set(i, { pattern: e.currentTarget.value })}
              />
              <label for={`${id}-a-${i}`}>Access {i + 1}</label>
              <select
                id={`${id}-a-${i}`}
                value={r.access}
                onChange={(e) => set(i, { access: e.currentTarget.value as AclRule['access'] })}
              >
                {ACCESS.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
              <button
                type="button"
                onClick={() => setDraft(draft.filter((_, j) => j !== i))}
                aria-label={`Remove rule ${i + 1}`}
              >
                Remove
              </button>
              {errors[i] ? (
                <p class="error" id={`${id}-e-${i}`}>
                  Rule {i + 1}: {errors[i]}
                </p>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      <p class="help">
        Patterns are MQTT filters; %u is the username and %c the client id. A deny rule wins over
        every grant.
      </p>
      <div class="row">
        <button type="button" onClick={() => setDraft([...draft, { pattern: '', access: 'read' }])}>
          Add rule
        </button>
        <button type="submit">Save rules</button>
      </div>
      <ErrorText error={error} />
      <p role="status">{status}</p>
    </form>
  );
}
