// The differential test: random (user, client id, topic, access) tuples through a real broker
// loading the plugin, against the service's own /mqtt/acl (+ /mqtt/superuser) and
// POST /api/v1/decide. Publishes are read from PUBACK reason codes, subscriptions from SUBACK
// codes, deliveries from what a subscriber receives. Every tuple runs twice: the second pass
// answers from the plugin's cache. The rules are drawn from a small vocabulary, so grants and
// denies are both common (asserted). Seed: PLUGIN_DIFF_SEED (printed on failure).
// The service has BROKER_TOKEN_SHA256 and the plugin the token: the broker decides from the
// records it holds (the C of rules.c/decisions.c), so this compares the two implementations.
// PLUGIN_DIFF_RECORDS=off runs it without, on the per-check path.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { rng } from '../../bench/workloads';
import { pool, rawRequest, waitFor, JSON_HEADERS } from '../support/http';
import {
  mustConnect,
  publishCode,
  startPluginStack,
  subscribeCode,
  type PluginStack,
} from '../support/plugin';

const SEED = Number(process.env.PLUGIN_DIFF_SEED ?? Date.now() % 1_000_000);
const PUBLISHES = 1500;
const SUBSCRIBES = 800;
const DELIVERIES = 300;

// mulberry32 (the bench's): seeded, so a failing run can be replayed
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const ACCESS = ['read', 'write', 'readwrite', 'readwrite', 'readwrite', 'deny'] as const;
const USERS = ['d1', 'd2', 'd3', 'd4', 'd5'];
const SUPER = 'root1';

function randomPattern(): string {
  const depth = 1 + Math.floor(rand() * 3);
  const levels: string[] = [];
  for (let i = 0; i < depth; i++) {
    const last = i === depth - 1;
    levels.push(pick(last ? ['a', 'b', '%u', '%c', '+', '#', '#'] : ['a', 'b', '%u', '%c', '+']));
  }
  return levels.join('/');
}
const randomRules = () =>
  Array.from({ length: 3 + Math.floor(rand() * 4) }, () => ({
    pattern: randomPattern(),
    access: pick(ACCESS),
  }));

function randomTopic(user: string, clientid: string, filter: boolean): string {
  const depth = 1 + Math.floor(rand() * 3);
  const words = ['a', 'b', 'z', user, clientid, pick(USERS)];
  const levels: string[] = [];
  for (let i = 0; i < depth; i++) {
    const last = i === depth - 1;
    if (filter && rand() < 0.3) levels.push(last && rand() < 0.5 ? '#' : '+');
    else levels.push(pick(words));
  }
  return levels.join('/');
}

/** A topic (or filter) drawn from a rule: often granted or denied by it, so both are common. */
function topicFromRule(pattern: string, user: string, clientid: string, filter: boolean): string {
  const words = ['a', 'b', 'z', user];
  return pattern
    .split('/')
    .flatMap((level) => {
      if (level === '%u') return [user];
      if (level === '%c') return [clientid];
      if (level === '+') return [filter && rand() < 0.3 ? '+' : pick(words)];
      if (level === '#') {
        if (filter && rand() < 0.4) return ['#'];
        return Array.from({ length: Math.floor(rand() * 3) }, () => pick(words));
      }
      return [level];
    })
    .join('/');
}

const rulesOf = new Map<string, { pattern: string; access: string }[]>();

/** Half the time from one of the user's own rules, else anywhere in the vocabulary. */
const drawTopic = (user: string, clientid: string, filter: boolean) => {
  const own = rulesOf.get(user) ?? [];
  return own.length > 0 && rand() < 0.5
    ? topicFromRule(pick(own).pattern, user, clientid, filter) || pick(['a', user])
    : randomTopic(user, clientid, filter);
};

interface Subject {
  user: string;
  clientid: string;
  client: MqttClient;
}
interface Tuple {
  s: Subject;
  topic: string;
  acc: 1 | 2 | 4;
}

let s: PluginStack;
const subjects: Subject[] = [];
let watcher: MqttClient;

const RECORDS = process.env.PLUGIN_DIFF_RECORDS !== 'off';
const TOKEN = randomBytes(24).toString('base64url');
let dir: string | undefined;

beforeAll(async () => {
  let tokenOpts = {};
  let tokenEnv = {};
  if (RECORDS) {
    dir = await mkdtemp(join(tmpdir(), 'plugin-diff-'));
    await writeFile(join(dir, 'token'), TOKEN, { mode: 0o600 });
    tokenOpts = { token_file: join(dir, 'token') };
    tokenEnv = { BROKER_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex') };
  }
  s = await startPluginStack({ name: 'plugin-diff', pluginOpts: tokenOpts, serviceEnv: tokenEnv });
  const created = await Promise.all([
    ...USERS.map((id) => {
      rulesOf.set(id, randomRules());
      return s.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl: rulesOf.get(id) });
    }),
    s.api('POST', '/devices', { id: SUPER, password: 'pw-root1-0123', superuser: true }),
    s.api('PUT', '/acl/common', { acl: [{ pattern: 'pub/%u/#', access: 'readwrite' }, { pattern: 'a/b/#', access: 'deny' }] }),
  ]); // prettier-ignore
  for (const c of created) expect([200, 201]).toContain(c.status);
  for (const user of USERS) {
    for (const clientid of [`${user}-c1`, `${user}-c2`]) {
      subjects.push({ user, clientid, client: await mustConnect(s.broker.port, user, `pw-${user}-0123`, clientid) }); // prettier-ignore
    }
  }
  const rootId = 'root1-c';
  subjects.push({ user: SUPER, clientid: rootId, client: await mustConnect(s.broker.port, SUPER, 'pw-root1-0123', rootId) }); // prettier-ignore
  watcher = await mustConnect(s.broker.port, SUPER, 'pw-root1-0123', 'root1-watcher');
}, 90_000);
afterAll(async () => {
  for (const x of subjects) x.client.end(true);
  watcher?.end(true);
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The service's answers: decide, and the checks go-auth would make (superuser, then acl). */
async function serviceSays(t: Tuple): Promise<{ decide: boolean; checks: boolean }> {
  const body = { username: t.s.user, clientid: t.s.clientid, topic: t.topic, acc: t.acc };
  const [d, su, acl] = await Promise.all([
    s.api('POST', '/decide', body),
    rawRequest(s.service.port, 'POST', '/mqtt/superuser', JSON.stringify(body), JSON_HEADERS),
    rawRequest(s.service.port, 'POST', '/mqtt/acl', JSON.stringify(body), JSON_HEADERS),
  ]);
  expect(d.status).toBe(200);
  return {
    decide: (JSON.parse(d.body) as { allow: boolean }).allow,
    checks: su.status === 200 || acl.status === 200,
  };
}

const describeTuple = (t: Tuple) =>
  `seed ${SEED}: ${t.s.user}/${t.s.clientid} acc ${t.acc} ${JSON.stringify(t.topic)}`;

async function brokerSays(t: Tuple): Promise<boolean> {
  if (t.acc === 2) {
    const code = await publishCode(t.s.client, t.topic);
    if (code !== 0 && code !== 16 && code !== 135) throw new Error(`PUBACK ${code}`);
    return code !== 135;
  }
  const code = await subscribeCode(t.s.client, t.topic);
  if (code > 2 && code !== 135) throw new Error(`SUBACK ${code}`);
  if (code <= 2) await t.s.client.unsubscribeAsync(t.topic);
  return code <= 2;
}

/** Runs the tuples per client in order (clients in parallel); mismatches by description. */
async function compare(tuples: Tuple[]): Promise<{ mismatches: string[]; allowed: number }> {
  const expected = await pool(tuples, 8, serviceSays);
  const mismatches: string[] = [];
  let allowed = 0;
  const bySubject = new Map<Subject, number[]>();
  tuples.forEach((t, i) => bySubject.set(t.s, [...(bySubject.get(t.s) ?? []), i]));
  for (let pass = 0; pass < 2; pass++) {
    await Promise.all(
      [...bySubject.values()].map(async (idx) => {
        for (const i of idx) {
          const t = tuples[i] as Tuple;
          const e = expected[i] as { decide: boolean; checks: boolean };
          const got = await brokerSays(t);
          if (pass === 0 && got) allowed++;
          if (e.decide !== e.checks) mismatches.push(`decide ≠ checks: ${describeTuple(t)}`);
          if (got !== e.decide)
            mismatches.push(
              `pass ${pass}: broker ${got}, service ${e.decide}: ${describeTuple(t)}`,
            );
        }
      }),
    );
  }
  return { mismatches, allowed };
}

test(`${PUBLISHES} publishes and ${SUBSCRIBES} subscriptions: the broker decides as the service`, async () => {
  const tuples: Tuple[] = [];
  for (let i = 0; i < PUBLISHES + SUBSCRIBES; i++) {
    const subj = pick(subjects);
    const acc = i < PUBLISHES ? 2 : 4;
    tuples.push({ s: subj, acc, topic: drawTopic(subj.user, subj.clientid, acc === 4) });
  }
  const { mismatches, allowed } = await compare(tuples);
  expect(mismatches.slice(0, 20)).toEqual([]);
  // both outcomes common, or the comparison proves little
  expect(allowed / tuples.length).toBeGreaterThan(0.2);
  expect(allowed / tuples.length).toBeLessThan(0.8);
}, 240_000);

test(`${DELIVERIES} deliveries (acc 1) after the rules changed under a granted subscription`, async () => {
  // A device made with rules that grant `r/#`, `g/#`, `fin` (so the broker's first copy of its
  // record has them), then rules that grant only parts of it: deliveries are checked per message
  // against the new rules. The sentinel `fin` is outside r/…, where no drawn deny rule can reach it.
  const user = 'd6';
  const clientid = 'd6-deliveries';
  const before = ['r/#', 'g/#', 'fin'].map((pattern) => ({ pattern, access: 'read' }));
  expect((await s.api('POST', '/devices', { id: user, password: 'pw-d6-0123', acl: before })).status).toBe(201); // prettier-ignore
  const subj: Subject = { user, clientid, client: await mustConnect(s.broker.port, user, 'pw-d6-0123', clientid) }; // prettier-ignore
  subjects.push(subj);
  const received: string[] = [];
  subj.client.on('message', (topic) => received.push(topic));
  expect(await subscribeCode(subj.client, 'r/#')).toBe(0);
  expect(await subscribeCode(subj.client, 'g/#')).toBe(0);
  expect(await subscribeCode(subj.client, 'fin')).toBe(0);
  const rules = [
    ...randomRules().map((r) => ({ ...r, pattern: `r/${r.pattern}` })),
    // under g/, which no drawn rule reaches, grants and denies whatever was drawn
    { pattern: 'g/a/#', access: 'read' },
    { pattern: 'g/a/b/#', access: 'deny' },
    { pattern: 'fin', access: 'read' },
    { pattern: 'probe2', access: 'read' },
  ];
  expect((await s.api('PUT', `/devices/${user}/acl`, { acl: rules })).status).toBe(200);
  // The service's own cache drops the old rules one pub/sub hop after the API answer: until
  // then /mqtt/acl would still answer from them (a loaded machine stretches that hop).
  const probe = { username: user, clientid, topic: 'probe2', acc: 1 };
  const fresh = await waitFor(
    async () =>
      (await rawRequest(s.service.port, 'POST', '/mqtt/acl', JSON.stringify(probe), JSON_HEADERS)).status === 200, // prettier-ignore
    5000,
  );
  expect(fresh).not.toBeNull();
  // and the broker's copy, one stream hop after the API's answer: `probe2` may be subscribed
  // only under the new rules
  expect(await waitFor(async () => (await subscribeCode(subj.client, 'probe2')) === 0, 5000)).not.toBeNull(); // prettier-ignore
  const topics = Array.from({ length: DELIVERIES }, () => `${pick(['r', 'g'])}/${randomTopic(user, subj.clientid, false)}`); // prettier-ignore
  const tuples: Tuple[] = topics.map((topic) => ({ s: subj, topic, acc: 1 }));
  const expected = await pool(tuples, 8, serviceSays);
  for (let pass = 0; pass < 2; pass++) {
    received.length = 0;
    for (const topic of topics) expect([0, 16]).toContain(await publishCode(watcher, topic));
    expect(await publishCode(watcher, 'fin')).toBe(0);
    const until = Date.now() + 10_000;
    while (!received.includes('fin') && Date.now() < until) await new Promise((r) => setTimeout(r, 20)); // prettier-ignore
    if (!received.includes('fin')) {
      const lines = s.broker.logs().split('\n');
      throw new Error(`fin never arrived; broker:\n${lines.filter((l) => /mqtt-authd|d6-deliveries|fin/.test(l)).slice(-60).join('\n')}`); // prettier-ignore
    }
    // messages come in publish order: once `fin` is here, every granted one is too
    const got = new Set(received);
    const mismatches = tuples.flatMap((t, i) => {
      const e = expected[i] as { decide: boolean; checks: boolean };
      const ok = e.decide === e.checks && got.has(t.topic) === e.decide;
      return ok ? [] : [`pass ${pass}: delivered ${got.has(t.topic)}, service ${e.decide}/${e.checks}: ${describeTuple(t)}`]; // prettier-ignore
    });
    expect(mismatches.slice(0, 20)).toEqual([]);
  }
  const allowed = expected.filter((e) => e.decide).length;
  expect(allowed).toBeGreaterThan(0);
  expect(allowed).toBeLessThan(DELIVERIES);
}, 120_000);
