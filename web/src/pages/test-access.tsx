// "Why was my device denied?": POST /decide, with the deciding rule highlighted in the lists.
import { useState } from 'preact/hooks';
import {
  ApiError,
  call,
  enc,
  type AclRule,
  type DecideAnswer as Answer,
  type Device,
} from '../api';
import { Badge, ErrorText, Page } from '../ui';

const ACC = [
  ['2', 'write (publish)'],
  ['1', 'read (receive)'],
  ['3', 'read and write'],
  ['4', 'subscribe (topic filter)'],
];

function Rules({
  title,
  rules,
  highlight,
}: {
  title: string;
  rules: AclRule[];
  highlight: number | null;
}) {
  return (
    <div>
      <h3>{title}</h3>
      {rules.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <ol class="rule-list">
          {rules.map((r, i) => (
            <li
              key={i}
              class={i === highlight ? 'deciding' : undefined}
              aria-current={i === highlight ? 'true' : undefined}
            >
              <code>{r.pattern}</code> {r.access}
              {i === highlight ? <strong class="tag"> deciding rule</strong> : null}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

export function TestAccessPage({ user = '' }: { user?: string }) {
  const [form, setForm] = useState({ username: user, clientid: '', topic: '', acc: '2' });
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [lists, setLists] = useState<{ own: AclRule[]; common: AclRule[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const field = (name: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [name]: e.currentTarget.value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setAnswer(null);
    try {
      const a = await call<Answer>('POST', '/decide', { ...form, acc: Number(form.acc) });
      const [own, common] = await Promise.all([
        call<Device>('GET', `/devices/${enc(form.username)}`).then(
          (d) => d.acl,
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return [];
            throw err;
          },
        ),
        call<{ acl: AclRule[] }>('GET', '/acl/common').then((r) => r.acl),
      ]);
      setLists({ own, common });
      setAnswer(a);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Page title="Test access">
      <p class="help">
        What the broker would decide now for this device, topic and client id, and the rule that
        decided. Nothing is sent to the broker.
      </p>
      <form class="grid" onSubmit={submit} aria-label="Test access">
        <label for="t-user">Device id (username)</label>
        <input id="t-user" required value={form.username} onInput={field('username')} />
        <label for="t-client">Client id</label>
        <input id="t-client" value={form.clientid} onInput={field('clientid')} />
        <label for="t-topic">Topic or filter</label>
        <input id="t-topic" required value={form.topic} onInput={field('topic')} />
        <label for="t-acc">Access</label>
        <select id="t-acc" value={form.acc} onChange={field('acc')}>
          {ACC.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
        <button type="submit">Explain</button>
      </form>
      <ErrorText error={error} />
      {answer ? (
        <div class="verdict" aria-live="polite" data-testid="verdict">
          <h2>
            {answer.allow ? <Badge kind="on">Allowed</Badge> : <Badge kind="off">Denied</Badge>}
          </h2>
          <p data-testid="reason">{answer.reason}</p>
          {answer.rule ? (
            <p>
              Deciding rule: {answer.source} rule {answer.rule.index + 1},{' '}
              <code>{answer.rule.pattern}</code> {answer.rule.access}
              {answer.rule.resolved && answer.rule.resolved !== answer.rule.pattern
                ? ` (here: ${answer.rule.resolved})`
                : ''}
            </p>
          ) : null}
          <p>
            Connecting: {answer.connect.allow ? 'possible' : 'refused'}, {answer.connect.reason}.
          </p>
          {lists ? (
            <div class="columns">
              <Rules
                title="Own rules"
                rules={lists.own}
                highlight={answer.source === 'own' ? (answer.rule?.index ?? null) : null}
              />
              <Rules
                title="Common rules"
                rules={lists.common}
                highlight={answer.source === 'common' ? (answer.rule?.index ?? null) : null}
              />
            </div>
          ) : null}
        </div>
      ) : null}
    </Page>
  );
}
