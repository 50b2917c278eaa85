// The check workloads against one running mqtt-authd: peak runs (each against the ceiling's
// figures), paced runs at half of the peak (repeated on the ceiling at the same rate), cold
// logins against the PBKDF2 bound. A sanity check first: a service that denies everything
// (wrong layout, wrong prefix) would look very fast.
import type Redis from 'ioredis';
import type { Keys } from '../src/store/keys';
import { send, sleep } from '../test/support/http';
import { measured, pacedLoad, peakLoad, type MeasureContext, type RunResult } from './load';
import type { CheckRow, PacedRow } from './report';
import * as w from './workloads';

export interface RunSettings {
  seconds: number;
  connections: number;
  warmSet: number;
}

export interface Target {
  url: string;
  m: MeasureContext;
}

export const peakRun = (
  s: RunSettings,
  t: Target,
  what: string,
  ok: number[],
  build: (a: number) => w.CheckRequest[][],
  extra?: { amount?: number; before?: () => Promise<void> },
) =>
  measured(what, ok, t.m, async (attempt) => {
    await extra?.before?.();
    return peakLoad(t.url, build(attempt), { ...s, amount: extra?.amount });
  });
export const pacedRun = (s: RunSettings, t: Target, what: string, rate: number, ok: number[], build: (a: number) => w.CheckRequest[], before?: () => Promise<void>) =>
  measured(`${what} at ${rate}/s`, ok, t.m, async (attempt) => {
    await before?.();
    return pacedLoad(t.url, build(attempt), { ...s, rate });
  }); // prettier-ignore

async function sanityCheck(url: string, devices: number): Promise<void> {
  const wrong: string[] = [];
  for (const [what, r, want] of w.sanityCases(devices)) {
    // node:http, as the plugins send: Node's fetch adds `Sec-Fetch-Mode`, which the check
    // listener refuses as a browser's request (403).
    const port = Number(new URL(url).port);
    const res = await send(port, r.path, { method: 'POST', headers: r.headers, body: r.body });
    if (res.status !== want) wrong.push(`${what}: got ${res.status}, want ${want}`);
  }
  if (wrong.length) throw new Error(`sanity check failed:\n  ${wrong.join('\n  ')}`);
}

/** The check workloads against one mqtt-authd: peaks (each against the ceiling's), paced
 *  runs at half of the peak (repeated on the ceiling), cold logins against the PBKDF2 bound. */
export async function measureChecks(
  s: RunSettings, authd: Target, n: number, keys: Keys, redis: Redis, ceiling: Target, ceilingPeak: Record<string, RunResult>, bound: number,
): Promise<{ checks: CheckRow[]; paced: PacedRow[] }> {
  const shape: w.Shape = { devices: n, connections: s.connections, warmSet: s.warmSet };
  const checks: CheckRow[] = [];
  const paced: PacedRow[] = [];
  const tag = (id: string) => `${id} @ ${n.toLocaleString('en-US')}`;
  // Empties the user cache, as any change to the common rules does (one PUBLISH).
  const clearCache = async () => {
    if ((await redis.publish(keys.events, 'bench-resync')) < 1) throw new Error('mqtt-authd is not subscribed to its change feed');
    await sleep(100);
  };
  await sanityCheck(authd.url, n);
  await peakLoad(authd.url, w.buildWorkload('acl-json', shape, 9), { ...s, seconds: 2 }); // warm-up
  const peak = async (id: 'acl-json' | 'acl-form' | 'superuser' | 'user-warm', ok: number[], before?: () => Promise<void>) => {
    const r = await peakRun(s, authd, tag(id), ok, (a) => w.buildWorkload(id, shape, a * 100), { before });
    checks.push({ workload: id, devices: n, authd: r, ceiling: ceilingPeak[id] as RunResult });
    return r;
  };
  const pace = async (id: 'acl-json' | 'user-warm', rate: number, ok: number[], before?: () => Promise<void>) => {
    const build = (a: number) => w.interleave(w.buildWorkload(id, shape, a * 100 + 1));
    const r = await pacedRun(s, authd, tag(id), rate, ok, build, before);
    const same = await pacedRun(s, ceiling, `ceiling ${tag(id)}`, rate, [200], build);
    paced.push({ workload: id, devices: n, authd: r, ceiling: same });
  };
  const acl = await peak('acl-json', [200, 403]);
  await peak('acl-form', [200, 403]);
  await pace('acl-json', Math.round(acl.rps / 2), [200, 403]);
  await peak('superuser', [200, 403]);
  // Cold: a duration run when there are devices enough, else each device once; the cache is
  // emptied first, so no device has a verified password in it.
  const sets = w.coldRequests(shape, n);
  const total = sets.reduce((a, s) => a + s.length, 0);
  const amount = total < bound * s.seconds * 1.5 ? total : undefined;
  const cold = await peakRun(s, authd, tag('user-cold'), [200], () => sets, { amount, before: clearCache });
  checks.push({ workload: 'user-cold', devices: n, authd: cold, ceiling: cold, amount });
  // Warm: the warm set verified afresh (empty cache, one correct login each), then measured.
  const warmUp = async () => {
    await clearCache();
    const r = await peakLoad(authd.url, w.warmSetRequests(shape), { ...s, seconds: 60, amount: w.warmSetSize(shape) });
    if (r.statuses[200] !== w.warmSetSize(shape)) throw new Error(`warm-up: ${JSON.stringify(r.statuses)}`);
  };
  const warm = await peak('user-warm', [200], warmUp);
  await pace('user-warm', Math.round(warm.rps / 2), [200], warmUp);
  return { checks, paced };
} // prettier-ignore
