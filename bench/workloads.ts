// The benchmark's device population and the requests of each workload. Device i is fully
// determined by i; request sets are built up front (one array per connection) so that the
// load generator spends no CPU building bodies: on two cores, its CPU is the server's.
import type { Acc, AclRule } from '../src/domain/acl';

export type WorkloadId = 'acl-json' | 'acl-form' | 'user-warm' | 'user-cold' | 'superuser';

export const WORKLOAD_LABELS: Record<WorkloadId, string> = {
  'acl-json': '/mqtt/acl json (5 allow : 3 deny)',
  'acl-form': '/mqtt/acl form (5 allow : 3 deny)',
  'user-warm': '/mqtt/user warm (same devices reconnect)',
  'user-cold': '/mqtt/user cold (each device once: PBKDF2)',
  superuser: '/mqtt/superuser (1 % superusers)',
};

/** Distinct passwords; each has one precomputed `$7$` hash reused by many devices. */
export const PASSWORD_COUNT = 16;
export const deviceName = (i: number): string => `dev${String(i).padStart(7, '0')}`;
const clientIdOf = (i: number): string => `${deviceName(i)}-c`;
export const passwordOf = (i: number): string => `bench-pw-${i % PASSWORD_COUNT}-4f9d2a`;
export const isSuperuser = (i: number): boolean => i % 100 === 0;

/** Rules for every device, `%u` substituted per user (stored at `${prefix}acl:common`). */
export const COMMON_RULES: AclRule[] = [
  { pattern: 'devices/%u/#', access: 'readwrite' },
  { pattern: 'broadcast/#', access: 'read' },
];

/** A device's own rules, with its name written out as an operator would store them. */
export const ownRules = (name: string): AclRule[] => [
  { pattern: `sensors/${name}/+/data`, access: 'write' },
  { pattern: `cmd/${name}/#`, access: 'read' },
  { pattern: `cmd/${name}/admin`, access: 'deny' },
];

/** The /mqtt/acl mix: 5 allows to 3 denies, own rules and `%u` common rules. */
const ACL_CASES: { acc: Acc; topic(u: string, o: string): string; allow: boolean; why: string }[] =
  [
    { acc: 2, topic: (u) => `devices/${u}/telemetry`, allow: true, why: 'common %u publish' },
    { acc: 4, topic: (u) => `devices/${u}/#`, allow: true, why: 'common %u subscribe' },
    { acc: 1, topic: (u) => `cmd/${u}/reboot`, allow: true, why: 'own read' },
    { acc: 2, topic: (u) => `sensors/${u}/t1/data`, allow: true, why: 'own write' },
    { acc: 1, topic: () => 'broadcast/news', allow: true, why: 'common read' },
    { acc: 2, topic: (_u, o) => `devices/${o}/telemetry`, allow: false, why: "another's topic" },
    { acc: 4, topic: () => '#', allow: false, why: 'subscribe to everything' },
    { acc: 1, topic: (u) => `cmd/${u}/admin`, allow: false, why: 'own deny' },
  ];

/** One prepared request, byte for byte as go-auth sends it. */
export interface CheckRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const HEADERS = {
  json: { 'content-type': 'application/json', 'user-agent': 'mosquitto-2.0.11' },
  form: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Go-http-client/1.1' },
};

/** json mode marshals a Go map (keys sorted, `acc` a number), form mode url.Values.Encode. */
function request(path: string, mode: 'json' | 'form', fields: Record<string, string | number>) {
  const entries = Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1));
  const body =
    mode === 'json'
      ? JSON.stringify(Object.fromEntries(entries))
      : new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
  return { path, headers: { ...HEADERS[mode], 'accept-encoding': 'gzip' }, body };
}

const aclRequest = (mode: 'json' | 'form', i: number, other: number, k: number) => {
  const c = ACL_CASES[k % ACL_CASES.length] as (typeof ACL_CASES)[number];
  const user = deviceName(i);
  const topic = c.topic(user, deviceName(other));
  return request('/mqtt/acl', mode, { username: user, clientid: clientIdOf(i), topic, acc: c.acc });
};
const userRequest = (i: number, password = passwordOf(i)) =>
  request('/mqtt/user', 'json', { username: deviceName(i), password, clientid: clientIdOf(i) });
const superuserRequest = (i: number) =>
  request('/mqtt/superuser', 'json', { username: deviceName(i) });

/** Before measuring: every kind of request with the answer it must get (a service that
 *  denies everything because of a wrong layout or prefix would look very fast). */
export function sanityCases(devices: number): [string, CheckRequest, number][] {
  const a = Math.min(5, devices - 1);
  const b = Math.min(6, devices - 1);
  const su = [0, 1].find((i) => i < devices && !isSuperuser(i)) ?? 0;
  return [
    ...ACL_CASES.flatMap((c, k) =>
      (['json', 'form'] as const).map((mode): [string, CheckRequest, number] => [
        `acl ${mode} ${c.why}`,
        aclRequest(mode, a, b, k),
        c.allow || (a === b && c.why === "another's topic") ? 200 : 403,
      ]),
    ),
    ['user: right password', userRequest(a), 200],
    ['user: wrong password', userRequest(a, 'wrong'), 403],
    [`superuser ${deviceName(0)}`, superuserRequest(0), 200],
    ['not a superuser', superuserRequest(su), su === 0 ? 200 : 403],
  ];
}

export interface Shape {
  devices: number;
  connections: number;
  /** Devices 0 … warmSet-1 are the ones that reconnect in the warm runs. */
  warmSet: number;
}

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

/** At least one device per connection, so every connection has something to send. */
export const warmSetSize = (s: Shape) => Math.min(s.devices, Math.max(s.warmSet, s.connections));

/** Interleaves the per-connection sets into one sequence (for the paced generator). */
export const interleave = (sets: CheckRequest[][]): CheckRequest[] =>
  sets[0]?.flatMap((_, k) => sets.flatMap((set) => (set[k] ? [set[k]] : []))) ?? [];

/** `seed` picks another sample of devices (a repeat should not find the first's cache). */
export function buildWorkload(
  id: Exclude<WorkloadId, 'user-cold'>,
  s: Shape,
  seed = 0,
): CheckRequest[][] {
  const devices = id === 'user-warm' ? warmSetSize(s) : s.devices;
  const next = rng(seed * 10 + ['acl-json', 'acl-form', 'user-warm', 'superuser'].indexOf(id) + 1);
  const pick = () => Math.floor(next() * devices);
  const make = (d: number): CheckRequest => {
    if (id === 'user-warm') return userRequest(d);
    if (id === 'superuser') return superuserRequest(d);
    const other = (d + 1 + Math.floor(next() * (s.devices - 1))) % s.devices;
    const k = Math.floor(next() * ACL_CASES.length);
    return aclRequest(id === 'acl-json' ? 'json' : 'form', d, other, k);
  };
  return Array.from({ length: s.connections }, () =>
    Array.from({ length: PER_CONNECTION }, () => make(pick())),
  );
}

/** Cold: each request another device, counted down from the last one (the warm set is at the
 *  start), connection c taking every connections-th device; at most `limit` in all. */
export function coldRequests(s: Shape, limit: number): CheckRequest[][] {
  const per = Math.max(1, Math.min(PER_CONNECTION, Math.floor(limit / s.connections)));
  return Array.from({ length: s.connections }, (_, c) =>
    Array.from({ length: per }, (_x, k) => userRequest(s.devices - 1 - (k * s.connections + c))),
  );
}

/** Warm-up of the warm set: device d goes to connection d mod connections. */
export function warmSetRequests(s: Shape): CheckRequest[][] {
  return Array.from({ length: s.connections }, (_, c) => {
    const out: CheckRequest[] = [];
    for (let d = c; d < warmSetSize(s); d += s.connections) out.push(userRequest(d));
    return out;
  });
}
