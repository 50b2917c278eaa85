import { useEffect, useState } from 'preact/hooks';
import {
  call,
  type CheckCounts as Counts,
  type CheckStats as Stats,
  type ExportStatus,
} from '../api';
import { ErrorText, Page, when } from '../ui';

const RESULTS = ['allow', 'deny', 'error'] as const;
const SAMPLES = 30;
const EVERY_MS = 2000;

/** Checks per second over the last minute, from the service's counters. */
function LiveChecks() {
  const [rates, setRates] = useState<Counts[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let last: { at: number; total: Counts } | null = null;
    let stopped = false;
    const tick = async () => {
      try {
        const s = await call<Stats>('GET', '/stats/checks');
        const at = Date.parse(s.at);
        if (last && at > last.at) {
          const secs = (at - last.at) / 1000;
          const prev = last.total;
          const rate = {
            allow: (s.total.allow - prev.allow) / secs,
            deny: (s.total.deny - prev.deny) / secs,
            error: (s.total.error - prev.error) / secs,
          };
          if (!stopped) setRates((r) => [...r, rate].slice(-SAMPLES));
        }
        last = { at, total: s.total };
        setError(null);
      } catch (err) {
        if (!stopped) setError(err);
      }
    };
    void tick();
    const timer = setInterval(tick, EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  const now = rates[rates.length - 1];
  const max = Math.max(1, ...rates.flatMap((r) => RESULTS.map((k) => r[k])));
  const points = (k: (typeof RESULTS)[number]) =>
    rates.map((r, i) => `${(i / (SAMPLES - 1)) * 300},${60 - (r[k] / max) * 56}`).join(' ');
  return (
    <div>
      <h2>Broker checks per second</h2>
      <ErrorText error={error} />
      {now ? (
        <dl class="stats" data-testid="rates">
          {RESULTS.map((k) => (
            <div key={k} class={`stat stat-${k}`}>
              <dt>{k}</dt>
              <dd>{now[k].toFixed(1)}/s</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p role="status">Measuring…</p>
      )}
      <svg
        class="spark"
        viewBox="0 0 300 60"
        role="img"
        aria-label="Checks per second over the last minute: allow, deny and error"
      >
        {RESULTS.map((k) => (
          <polyline key={k} class={`line-${k}`} points={points(k)} />
        ))}
      </svg>
      <p class="help">This process only, sampled every 2 s.</p>
    </div>
  );
}

function skippedList(status: ExportStatus | null): string[] {
  const counts = Object.entries(status?.skipped ?? {})
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} × ${reason}`);
  const damaged = (status?.damaged ?? []).map((d) => `${d.username}: damaged record, ${d.reason}`);
  const unloadable = (status?.unloadable ?? []).map(
    (u) => `${u.username}: Mosquitto 2.1 would refuse it, ${u.reason}`,
  );
  return [...counts, ...damaged, ...unloadable];
}

export function ExportPage() {
  const [status, setStatus] = useState<ExportStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    call<ExportStatus>('GET', '/export').then(setStatus, setError);
  }, []);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setStatus(await call<ExportStatus>('POST', '/export'));
    } catch (err) {
      setError(err);
      // A failed run still changed the status (last error, failures in a row).
      call<ExportStatus>('GET', '/export').then(setStatus, () => undefined);
    } finally {
      setBusy(false);
    }
  };
  const skipped = skippedList(status);
  return (
    <Page title="Export and checks">
      <ErrorText error={error} />
      {status ? (
        <div>
          <h2>passwd / acl_file export</h2>
          {!status.enabled ? (
            <p>
              The export is off (and &ldquo;Export now&rdquo; with it: the API answers 409
              export_not_configured). To write Mosquitto&rsquo;s password_file and acl_file, set
              PASSWD_FILE and/or ACL_FILE, and MOSQUITTO_RELOAD to reload the broker, in the
              service&rsquo;s environment and restart it.
            </p>
          ) : null}
          <dl class="facts">
            <dt>Last success</dt>
            <dd>{when(status.lastSuccessAt)}</dd>
            <dt>Devices exported</dt>
            <dd>{status.users ?? 'none yet'}</dd>
            <dt>Took</dt>
            <dd>{status.lastDurationMs === null ? 'n/a' : `${status.lastDurationMs} ms`}</dd>
            <dt>Pending changes</dt>
            <dd>
              {status.pending ? 'yes' : 'no'}
              {status.running ? ' (running now)' : ''}
            </dd>
            <dt>Last error</dt>
            <dd>
              {status.lastError
                ? `${status.lastError} (${when(status.lastErrorAt)}, ${status.consecutiveFailures} in a row)`
                : 'none'}
            </dd>
            <dt>Broker reload</dt>
            <dd data-testid="reload">
              {!status.reload || status.reload.state === 'off'
                ? 'not configured (MOSQUITTO_RELOAD=none)'
                : `${status.reload.message ?? status.reload.state} (${when(status.reload.at)})`}
            </dd>
            <dt>Skipped records</dt>
            <dd>
              {skipped.length === 0 ? (
                'none'
              ) : (
                <ul>
                  {skipped.map((s) => (
                    <li key={s}>{s}</li>
                  ))}
                </ul>
              )}
            </dd>
          </dl>
          <button type="button" onClick={run} disabled={busy || !status.enabled}>
            Export now
          </button>
        </div>
      ) : error ? null : (
        <p role="status">Loading…</p>
      )}
      <LiveChecks />
    </Page>
  );
}
