// The request sets of each workload, built up front (one array per connection) so the load
// generator spends no CPU building bodies: on two cores, its CPU is taken from the server.
import { checkRequest, type BodyMode, type CheckRequest } from './bodies';
import { ACL_CASES, clientIdOf, deviceName, passwordOf } from './devices';

export type WorkloadId = 'acl-json' | 'acl-form' | 'user-warm' | 'user-cold' | 'superuser';

export const WORKLOAD_LABELS: Record<WorkloadId, string> = {
  'acl-json': '/mqtt/acl json (5 allow : 3 deny)',
  'acl-form': '/mqtt/acl form (5 allow : 3 deny)',
  'user-warm': '/mqtt/user warm (same devices reconnect)',
  'user-cold': '/mqtt/user cold (each device once: PBKDF2)',
  superuser: '/mqtt/superuser (1 % superusers)',
};

/** Requests per connection for the uniform workloads (32 × 4096: most of a 1M run is misses). */
const PER_CONNECTION = 4096;

/** mulberry32: small, seeded, good enough to pick devices and cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function aclRequest(mode: BodyMode, i: number, other: number, caseIndex: number) {
  const c = ACL_CASES[caseIndex % ACL_CASES.length] as (typeof ACL_CASES)[number];
  const user = deviceName(i);
  return checkRequest('/mqtt/acl', mode, {
    username: user,
    clientid: clientIdOf(i),
    topic: c.topic(user, deviceName(other)),
    acc: c.acc,
  });
}

export const userRequest = (i: number, password = passwordOf(i)) =>
  checkRequest('/mqtt/user', 'json', {
    username: deviceName(i),
    password,
    clientid: clientIdOf(i),
  });

export const superuserRequest = (i: number) =>
  checkRequest('/mqtt/superuser', 'json', { username: deviceName(i) });

export interface WorkloadShape {
  devices: number;
  connections: number;
  /** Devices 0 … warmSet-1 are the ones that reconnect in the warm runs. */
  warmSet: number;
}

/** At least one device per connection, so every connection has something to send. */
export const warmSetSize = (s: WorkloadShape): number =>
  Math.min(s.devices, Math.max(s.warmSet, s.connections));

/** Interleaves the per-connection sets into one sequence (for the paced generator). */
export const interleave = (sets: CheckRequest[][]): CheckRequest[] =>
  sets[0]?.flatMap((_, k) => sets.flatMap((set) => (set[k] ? [set[k]] : []))) ?? [];

function uniform(
  s: WorkloadShape,
  seed: number,
  make: (device: number, pick: () => number) => CheckRequest,
): CheckRequest[][] {
  const next = rng(seed);
  const pick = () => Math.floor(next() * s.devices);
  return Array.from({ length: s.connections }, () =>
    Array.from({ length: PER_CONNECTION }, () => make(pick(), next)),
  );
}

/**
 * Cold: every request a different device, counted down from the last one (the warm set is at
 * the start), connection c taking every connections-th device. Returns at most `limit`.
 */
export function coldRequests(s: WorkloadShape, limit: number): CheckRequest[][] {
  const per = Math.max(1, Math.min(PER_CONNECTION, Math.floor(limit / s.connections)));
  return Array.from({ length: s.connections }, (_, c) =>
    Array.from({ length: per }, (_x, k) => userRequest(s.devices - 1 - (k * s.connections + c))),
  );
}

/** Warm-up of the warm set: device d goes to connection d mod connections. */
export function warmSetRequests(s: WorkloadShape): CheckRequest[][] {
  const n = warmSetSize(s);
  return Array.from({ length: s.connections }, (_, c) => {
    const out: CheckRequest[] = [];
    for (let d = c; d < n; d += s.connections) out.push(userRequest(d));
    return out;
  });
}

/** `seed` picks another sample of devices (a second run should not find the first's cache). */
export function buildWorkload(
  id: Exclude<WorkloadId, 'user-cold'>,
  s: WorkloadShape,
  seed = 0,
): CheckRequest[][] {
  switch (id) {
    case 'acl-json':
    case 'acl-form': {
      const mode: BodyMode = id === 'acl-json' ? 'json' : 'form';
      return uniform(s, seed * 10 + (id === 'acl-json' ? 1 : 2), (d, next) => {
        const other = (d + 1 + Math.floor(next() * (s.devices - 1))) % s.devices;
        return aclRequest(mode, d, other, Math.floor(next() * ACL_CASES.length));
      });
    }
    case 'user-warm': {
      const warm = warmSetSize(s);
      return uniform({ ...s, devices: warm }, seed * 10 + 3, (d) => userRequest(d));
    }
    case 'superuser':
      return uniform(s, seed * 10 + 4, (d) => superuserRequest(d));
  }
}
