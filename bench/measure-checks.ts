// The check workloads against one running mqtt-authd: peak runs (each against the ceiling's
// figures), paced runs at half of the peak (repeated on the ceiling at the same rate), cold
// logins against the PBKDF2 bound.
import type { Authd } from './authd';
import { peakLoad } from './cannon';
import { measured, type MeasureContext } from './measured';
import type { SizeContext } from './measure-size';
import type { CheckRow, PacedRow } from './report';
import { pacedRun, peakRun } from './runs';
import { sanityCheck } from './sanity';
import {
  buildWorkload,
  coldRequests,
  interleave,
  warmSetRequests,
  warmSetSize,
  type WorkloadShape,
} from './workloads';

/** The warm set verified afresh: an empty cache, then one correct login per device. */
async function warmUp(authd: Authd, shape: WorkloadShape): Promise<void> {
  await authd.clearCache();
  const n = warmSetSize(shape);
  const r = await peakLoad(authd.url, warmSetRequests(shape), {
    connections: shape.connections,
    seconds: 60,
    amount: n,
  });
  if (r.statuses[200] !== n) throw new Error(`warm-up: ${JSON.stringify(r.statuses)}`);
}

export async function measureChecks(
  authd: Authd,
  n: number,
  c: SizeContext,
): Promise<{ checks: CheckRow[]; paced: PacedRow[] }> {
  const { settings, ceiling, hash } = c;
  const shape: WorkloadShape = {
    devices: n,
    connections: settings.connections,
    warmSet: settings.warmSet,
  };
  const opts = { connections: settings.connections, seconds: settings.seconds };
  const m: MeasureContext = {
    serverPid: authd.child.process.pid ?? 0,
    helperPids: [process.pid, c.redisPid],
    retries: settings.retries,
    retryBudget: c.retryBudget,
    warnings: c.warnings,
  };
  const checks: CheckRow[] = [];
  const paced: PacedRow[] = [];
  const url = authd.url;
  const tag = (id: string) => `${id} @ ${n.toLocaleString('en-US')}`;

  await sanityCheck(url, n);
  // Warm-up (JIT, connections, cache), not measured.
  await peakLoad(url, buildWorkload('acl-json', shape, 9), { ...opts, seconds: 2 });

  const peak = async (
    id: 'acl-json' | 'acl-form' | 'superuser' | 'user-warm',
    ok: number[],
    before?: () => Promise<void>,
  ) => {
    const build = (attempt: number) => buildWorkload(id, shape, attempt * 100);
    const r = await measured(tag(id), ok, m, peakRun(url, opts, build, before));
    checks.push({ workload: id, devices: n, authd: r, ceiling: ceiling.peak[id] });
    return r;
  };
  const pace = async (
    id: 'acl-json' | 'user-warm',
    rate: number,
    ok: number[],
    before?: () => Promise<void>,
  ) => {
    const build = (attempt: number) => interleave(buildWorkload(id, shape, attempt * 100 + 1));
    const r = await measured(
      `${tag(id)} at ${rate}/s`,
      ok,
      m,
      pacedRun(url, { ...opts, rate }, build, before),
      (x) => `  queued ≤ ${x.maxQueued}`,
    );
    const same = await ceiling.pacedAt(tag(id), rate, build);
    paced.push({ workload: id, devices: n, authd: r, ceiling: same });
  };

  const acl = await peak('acl-json', [200, 403]);
  await peak('acl-form', [200, 403]);
  await pace('acl-json', Math.round(acl.rps / 2), [200, 403]);
  await peak('superuser', [200, 403]);

  // Cold: a duration run when there are devices enough for it, else each device once. The
  // cache is emptied first, so no device has a verified password in it.
  const sets = coldRequests(shape, n);
  const total = sets.reduce((a, s) => a + s.length, 0);
  const amount = total < hash.perSecond * settings.seconds * 1.5 ? total : undefined;
  const cold = await measured(
    tag('user-cold'),
    [200],
    m,
    peakRun(url, { ...opts, amount }, () => sets, authd.clearCache),
    () => (amount ? `  (${amount} logins)` : ''),
  );
  checks.push({ workload: 'user-cold', devices: n, authd: cold, ceiling: cold, amount });

  const warmUpFirst = () => warmUp(authd, shape);
  const warm = await peak('user-warm', [200], warmUpFirst);
  await pace('user-warm', Math.round(warm.rps / 2), [200], warmUpFirst);
  return { checks, paced };
}
