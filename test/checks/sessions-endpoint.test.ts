// POST /mqtt/sessions on the real service and Redis (docs/broker-protocol.md, Sessions): the
// broker credential before anything else, the browser door, a bounded body, 4xx that name
// the field, `needFull` when the service does not hold the broker's state, and what lands.
import { createHash, randomBytes } from 'node:crypto';
import { send, type RequestOptions } from '../support/http';
import { startTestService, type TestService } from '../support/service';

const TOKEN = randomBytes(24).toString('base64url');
const AUTH = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
let t: TestService;

beforeAll(async () => {
  t = await startTestService('sessions-endpoint', {
    BROKER_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex'),
  });
});
afterAll(() => t?.stop());

const post = (body: unknown, opts: RequestOptions = {}) =>
  send(t.port, '/mqtt/sessions', {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: AUTH,
    ...opts,
  });

const batch = (seq: number, part: object = {}) => ({
  broker: 'ep-1',
  boot: 'b1',
  seq,
  full: false,
  heartbeatMs: 5000,
  connected: [],
  disconnected: [],
  ...part,
});
const S = {
  username: 'dev',
  clientid: 'c1',
  address: '10.0.0.7:5000',
  protocol: 5,
  at: 1_700_000_000_000,
};

it('needs the broker credential, before the method or body is looked at', async () => {
  const tries: Record<string, string>[] = [
    {},
    { Authorization: 'Bearer wrong' },
    { Authorization: TOKEN },
  ];
  for (const headers of tries) {
    const a = await post(batch(1, { full: true }), { headers });
    expect(a.status).toBe(401);
  }
  expect((await post('', { method: 'GET', headers: {} })).status).toBe(401);
  expect((await post('', { method: 'GET' })).status).toBe(405);
});

it('refuses what a browser sends (Origin, Sec-Fetch-*), credential or not', async () => {
  const a = await post(batch(1, { full: true }), { headers: { ...AUTH, Origin: 'http://evil' } });
  expect(a.status).toBe(403);
});

it.each([
  ['not JSON', '{', 'not valid JSON'],
  ['no broker', { ...batch(1), broker: undefined }, 'broker'],
  ['a blank in the broker id', { ...batch(1), broker: 'a b' }, 'broker'],
  ['a bad protocol', batch(1, { connected: [{ ...S, protocol: 6 }] }), 'connected.0.protocol'],
  [
    'a NUL in a client id',
    batch(1, { connected: [{ ...S, clientid: 'a\0b' }] }),
    'connected.0.clientid',
  ],
  ['a heartbeat too short', { ...batch(1), heartbeatMs: 10 }, 'heartbeatMs'],
  ['a counter that is not a count', batch(1, { counters: { allow: { acl: -1 } } }), 'counters'],
  ['nested too deep', batch(1, { counters: { allow: { acl: [1] } } }), 'too deep'],
])('400 for %s, naming it', async (_why, body, named) => {
  const a = await post(body);
  expect(a.status).toBe(400);
  expect((JSON.parse(a.body) as { error: string }).error).toContain(named);
});

it('a body over 1 MiB is 413', async () => {
  const big = batch(1, { full: true, connected: [{ ...S, address: 'x'.repeat(1024 * 1024) }] });
  expect((await post(big)).status).toBe(413);
});

it('answers needFull until a full batch, then keeps the sessions and forgets an ended one', async () => {
  expect(JSON.parse((await post(batch(1, { connected: [S] }))).body)).toEqual({
    v: 2,
    needFull: true,
  });
  const full = await post(
    batch(1, {
      full: true,
      connected: [S, { ...S, clientid: 'c2' }],
      extra: 'ignored',
      counters: { allow: { acl: 7 } },
    }),
  );
  expect([full.status, JSON.parse(full.body)]).toEqual([200, { v: 2 }]);
  expect(
    (await post(batch(2, { disconnected: [{ username: 'dev', clientid: 'c1', reason: 0 }] })))
      .status,
  ).toBe(200);
  const page = await t.service.ctx.presence.page({ limit: 10, cursor: null }, Date.now());
  expect(page.sessions).toEqual([{ ...S, clientid: 'c2', broker: 'ep-1' }]);
  const metrics = await t.service.ctx.metrics.registry.metrics();
  expect(metrics).toMatch(/mqtt_authd_broker_sessions\{broker="ep-1"\} 1/);
  expect(metrics).toMatch(/mqtt_authd_session_reports_total\{outcome="needFull"\} 1/);
  expect(metrics).toMatch(
    /mqtt_authd_plugin_decisions_total\{broker="ep-1",decision="allow",kind="acl"\} 7/,
  );
  expect(metrics).toMatch(
    /mqtt_authd_broker_session_changes_total\{broker="ep-1",change="disconnect"\} 1/,
  );
});
