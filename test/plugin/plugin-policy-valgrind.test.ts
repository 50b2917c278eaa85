// The broker holding records, under valgrind: hostile stored records (each denied, none
// crashes, none allows), preload of good and damaged ones, decisions from records, a revoke
// missed while the broker's service was down (a password rotated through another service
// process) ending in a disconnect at the revalidation when the stream is back (issue 29
// item 1), shutdown. Any invalid access or definite leak makes valgrind exit 99.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { createKeys } from '../../src/store/keys';
import { JSON_HEADERS, rawRequest } from '../support/http';
import { startService, type ServiceProcess } from '../support/processes';
import {
  brokerToken,
  closedAt,
  connectV5,
  mustConnect,
  publishCode,
  startPluginStack,
  stopValgrindClean,
  subscribeCode,
  HAVE_VALGRIND,
  VALGRIND,
  type PluginStack,
} from '../support/plugin';
import { testRedisClient, testRedisEnv } from '../support/topology';

const maybe = HAVE_VALGRIND ? test : test.skip;

// Stored fields the service cannot decode: it serves such a record as `damaged: true`.
const HOSTILE: [string, string, string | null][] = [
  ['acl-not-json', 'acl', '[{"pattern":'],
  ['acl-an-object', 'acl', '{"pattern":"#","access":"readwrite"}'],
  ['acl-rule-without-access', 'acl', '[{"pattern":"#"}]'],
  ['acl-unknown-access', 'acl', '[{"pattern":"#","access":"everything"}]'],
  ['clientids-a-string', 'clientIds', '"box-1"'],
  ['superuser-yes', 'superuser', 'yes'],
  ['hash-missing', 'hash', null],
  ['hash-garbage', 'hash', '$7$x$%%%$'],
];

let s: PluginStack | undefined;
let other: ServiceProcess | undefined;
let dir: string | undefined;
const clients: MqttClient[] = [];
afterAll(async () => {
  for (const c of clients) c.end(true);
  await other?.stop();
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

maybe(
  'hostile records, preload, records decisions, a missed revoke, shutdown: valgrind-clean',
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'plugin-policy-vg-'));
    const credential = await brokerToken(dir);
    s = await startPluginStack({
      name: 'plugin-policy-vg',
      wrapper: VALGRIND,
      serviceEnv: credential.serviceEnv,
      pluginOpts: { ...credential.pluginOpts, preload: 'true' },
    });
    const st = s;
    const acl = [{ pattern: '%u/#', access: 'readwrite' }];
    const redis = testRedisClient();
    const keys = createKeys(st.prefix);
    for (const [name, field, value] of HOSTILE) {
      const id = `h-${name}`;
      expect((await st.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl, superuser: true })).status).toBe(201); // prettier-ignore
      // behind the service's back: no change event
      if (value === null) await redis.hdel(keys.user(id), field);
      else await redis.hset(keys.user(id), field, value);
    }
    redis.disconnect();
    for (const id of ['g-1', 'g-2'])
      expect((await st.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl })).status).toBe(201); // prettier-ignore

    // made after the broker's preload: each record is fetched at its first need, damaged ones
    // included (a service restart resumes the stream: no resync, no second preload)

    for (const [name] of HOSTILE) {
      const id = `h-${name}`;
      expect([id, (await connectV5(st.broker.port, id, `pw-${id}-0123`, `${id}-c`)).code]).toEqual([id, 135]); // prettier-ignore
    }
    const a = await mustConnect(st.broker.port, 'g-1', 'pw-g-1-0123', 'g-1-c');
    const b = await mustConnect(st.broker.port, 'g-2', 'pw-g-2-0123', 'g-2-c');
    clients.push(a, b);
    expect(await subscribeCode(a, 'g-1/#')).toBe(0);
    expect(await subscribeCode(a, '#')).toBe(135);
    for (let i = 0; i < 20; i++) expect(await publishCode(a, `g-1/job/${i}`)).toBe(0);
    expect(await publishCode(a, 'g-2/t')).toBe(135);

    // g-2's password rotated while the broker's service is down, through another process on
    // the same Redis: the broker misses the revoke, and disconnects g-2 when its stream is back
    let from = st.broker.logs().length;
    await st.stopService();
    await st.broker.waitForLog(/event stream down/, 30_000, from);
    const admin = randomBytes(16).toString('hex');
    other = await startService({
      env: {
        ...testRedisEnv(),
        REDIS_KEY_PREFIX: st.prefix,
        ADMIN_TOKENS: `other:${admin}`,
        PASSWD_ITERATIONS: '101',
      },
    });
    const rotated = await rawRequest(other.port, 'POST', '/api/v1/devices/g-2/password', '{}', {
      ...JSON_HEADERS,
      Authorization: `Bearer ${admin}`,
    });
    expect(rotated.status).toBe(200);
    await other.stop();
    other = undefined;
    const kicked = closedAt(b);
    from = st.broker.logs().length;
    await st.startServiceAgain();
    await st.streamUp(from, 30_000);
    await kicked; // the rotation replayed from the change log on the resumed stream
    await st.broker.waitForLog(/event stream up; cache trusted \(resumed\)/, 30_000, from);
    expect((await connectV5(st.broker.port, 'g-2', 'pw-g-2-0123', 'g-2-c')).code).toBe(135);
    expect(await publishCode(a, 'g-1/after')).toBe(0);

    for (const x of clients) x.end(true);
    await stopValgrindClean(st.broker);
    expect(st.broker.logs()).toMatch(/the record of h-acl-not-json does not decode/);
  },
  300_000,
);
