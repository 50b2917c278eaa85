// POST /mqtt/records, POST /mqtt/records/page and GET /mqtt/common through the real check
// listener and real Redis (docs/broker-protocol.md, Records): the broker credential, the
// shapes, cred, lockouts, damaged records, bad input, and a page walk complete while devices
// come and go.
import { createHash, pbkdf2Sync } from 'node:crypto';
import { JSON_HEADERS, rawRequest, send } from '../support/http';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(60_000);

const TOKEN = 'broker-token-for-records-0123456789';
const DIGEST = createHash('sha256').update(TOKEN).digest('hex');
const BROKER = { ...JSON_HEADERS, Authorization: `Bearer ${TOKEN}` };

let t: TestService;
beforeAll(async () => {
  t = await startTestService('records', {
    BROKER_TOKEN_SHA256: DIGEST,
    AUTH_FAIL_LIMIT: '3',
    PASSWD_ITERATIONS: '1000',
  });
});
afterAll(() => t?.stop());

const api = async (method: string, path: string, body?: unknown) => {
  const a = await rawRequest(t.port, method, `/api/v1${path}`, body ? JSON.stringify(body) : '', {
    ...JSON_HEADERS,
    ...ADMIN_AUTH,
  });
  expect(a.status).toBeLessThan(300);
  return a;
};
const post = (path: string, body: unknown, headers: Record<string, string> = BROKER) =>
  send(t.port, path, { body: JSON.stringify(body), headers });
interface R {
  username: string;
  known: boolean;
  cred?: string;
  disabled?: boolean;
  superuser?: boolean;
  clientIds?: string[];
  verifier?: { kind: string; iterations?: number; salt?: string; key?: string };
  acl?: { pattern: string; access: string }[];
  lockedMs?: number;
  damaged?: boolean;
}
async function records(...usernames: string[]): Promise<R[]> {
  const a = await post('/mqtt/records', { usernames });
  expect(a.status).toBe(200);
  const body = JSON.parse(a.body) as { v: number; records: R[] };
  expect(body.v).toBe(2);
  return body.records;
}

describe('the broker credential and the door', () => {
  it.each([
    ['POST', '/mqtt/records', '{"usernames":["x"]}'],
    ['POST', '/mqtt/records/page', '{"limit":10}'],
    ['GET', '/mqtt/common', ''],
  ])('%s %s: 401 without or with a wrong token, before the body is read', async (m, p, b) => {
    const auths: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: TOKEN },
    ];
    for (const auth of auths) {
      const a = await rawRequest(t.port, m, p, b, { ...JSON_HEADERS, ...auth });
      expect(a.status).toBe(401);
      expect(a.body).not.toContain('"records"');
    }
  });

  it('refuses browser headers (Origin, Sec-Fetch-*) even with the token', async () => {
    const browser: Record<string, string>[] = [
      { Origin: 'http://evil.example' },
      { 'Sec-Fetch-Mode': 'cors' },
    ];
    for (const h of browser) {
      const a = await send(t.port, '/mqtt/records', {
        body: '{"usernames":["x"]}',
        headers: { ...BROKER, ...h },
      });
      expect(a.status).toBe(403);
    }
  });

  it('answers 405 for the wrong method, 4xx for bad input', async () => {
    expect((await rawRequest(t.port, 'GET', '/mqtt/records', '', BROKER)).status).toBe(405);
    expect((await rawRequest(t.port, 'POST', '/mqtt/common', '', BROKER)).status).toBe(405);
    for (const body of [
      'not json',
      '{}',
      '{"usernames":[]}',
      '{"usernames":"a"}',
      '{"usernames":[""]}',
      '{"usernames":[1]}',
      JSON.stringify({ usernames: Array.from({ length: 101 }, (_, i) => `n${i}`) }),
    ]) {
      const a = await send(t.port, '/mqtt/records', { body, headers: BROKER });
      expect([a.status, body]).toEqual([400, body]);
    }
    for (const body of ['{}', '{"limit":0}', '{"limit":1001}', '{"limit":10,"cursor":"x"}']) {
      const a = await send(t.port, '/mqtt/records/page', { body, headers: BROKER });
      expect([a.status, body]).toEqual([400, body]);
    }
    const big = JSON.stringify({ usernames: ['x'.repeat(300 * 1024)] });
    expect((await send(t.port, '/mqtt/records', { body: big, headers: BROKER })).status).toBe(413);
  });

  it('403 "records need BROKER_TOKEN_SHA256" when no broker credential is configured', async () => {
    const open = await startTestService('records-open');
    try {
      for (const [m, p] of [
        ['POST', '/mqtt/records'],
        ['POST', '/mqtt/records/page'],
        ['GET', '/mqtt/common'],
      ] as const) {
        const a = await rawRequest(open.port, m, p, '{"usernames":["x"]}', BROKER);
        expect(a.status).toBe(403);
        expect(a.body).toContain('records need BROKER_TOKEN_SHA256');
      }
    } finally {
      await open.stop();
    }
  });
});

describe('POST /mqtt/records', () => {
  beforeAll(async () => {
    await api('POST', '/devices', {
      id: 'rec-a',
      password: 'password-of-rec-a',
      acl: [{ pattern: 'devices/%u/#', access: 'readwrite' }],
      clientIds: ['%u-1', 'b'],
    });
    await api('POST', '/devices', {
      id: 'rec-su',
      password: 'password-of-rec-su',
      superuser: true,
    });
  });

  it('one R per name in the order asked, unknown names as known:false', async () => {
    const [a, nobody, su, again] = await records('rec-a', 'nobody', 'rec-su', 'rec-a');
    expect(nobody).toEqual({ username: 'nobody', known: false });
    expect(a).toMatchObject({
      username: 'rec-a',
      known: true,
      disabled: false,
      superuser: false,
      clientIds: ['%u-1', 'b'],
      acl: [{ pattern: 'devices/%u/#', access: 'readwrite' }],
      lockedMs: 0,
    });
    expect(a?.cred).toMatch(/^[0-9a-f]{16}$/);
    expect(a?.damaged).toBeUndefined();
    expect(su).toMatchObject({ username: 'rec-su', superuser: true });
    expect(again).toEqual(a);
  });

  it('serves the $7$ hash as a verifier the broker can check', async () => {
    const [a] = await records('rec-a');
    const v = a?.verifier as { kind: string; iterations: number; salt: string; key: string };
    expect(v.kind).toBe('pbkdf2-sha512');
    expect(v.iterations).toBe(1000);
    const derive = (p: string) =>
      pbkdf2Sync(p, Buffer.from(v.salt, 'base64'), v.iterations, 64, 'sha512').toString('base64');
    expect(derive('password-of-rec-a')).toBe(v.key);
    expect(derive('password-of-rec-b')).not.toBe(v.key);
  });

  it('cred changes with the password, the client-id binding and disabling, not with the ACL or metadata', async () => {
    await api('POST', '/devices', { id: 'rec-cred', password: 'password-of-rec-cred' });
    const cred = async () => (await records('rec-cred'))[0]?.cred;
    const seen = [await cred()];
    await api('PUT', '/devices/rec-cred/acl', { acl: [{ pattern: 'x/#', access: 'read' }] });
    await api('PATCH', '/devices/rec-cred', { metadata: { site: 'b' } });
    expect(await cred()).toBe(seen[0]);
    await api('POST', '/devices/rec-cred/password', { password: 'another-password-1' });
    seen.push(await cred());
    await api('PATCH', '/devices/rec-cred', { clientIds: ['c1'] });
    seen.push(await cred());
    await api('PATCH', '/devices/rec-cred', { disabled: true });
    seen.push(await cred());
    expect(new Set(seen).size).toBe(4);
    const [r] = await records('rec-cred');
    expect(r?.disabled).toBe(true);
  });

  it('a damaged record is served damaged: disabled, no rules, no verifier, never superuser', async () => {
    const { redis, keys } = t.raw();
    await redis.hset(keys.user('rec-su'), 'acl', '{not json');
    const [r] = await records('rec-su');
    expect(r).toMatchObject({
      known: true,
      damaged: true,
      disabled: true,
      superuser: false,
      acl: [],
      verifier: { kind: 'service' },
    });
  });

  it('lockedMs: how long a locked-out user name stays locked', async () => {
    await api('POST', '/devices', { id: 'rec-lock', password: 'password-of-rec-lock' });
    for (let i = 0; i < 3; i++) {
      const a = await send(t.port, '/mqtt/user', {
        body: JSON.stringify({
          username: 'rec-lock',
          password: 'wrong-password',
          clientid: `c${i}`,
        }),
        headers: JSON_HEADERS,
      });
      expect(a.status).toBe(403);
    }
    const [r] = await records('rec-lock');
    expect(r?.lockedMs).toBeGreaterThan(0);
    expect(r?.lockedMs).toBeLessThanOrEqual(t.config.AUTH_LOCK_S * 1000);
    await api('DELETE', '/lockouts?username=rec-lock');
    expect((await records('rec-lock'))[0]?.lockedMs).toBe(0);
  });
});

describe('GET /mqtt/common', () => {
  it('the common rules as stored', async () => {
    const rules = [{ pattern: 'public/#', access: 'read' }];
    await api('PUT', '/acl/common', { acl: rules });
    const a = await rawRequest(t.port, 'GET', '/mqtt/common', '', BROKER);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ v: 2, acl: rules });
  });
});

describe('POST /mqtt/records/page', () => {
  const walk = async (limit: number, between?: (page: number) => Promise<void>) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; ; page++) {
      const a = await post('/mqtt/records/page', { cursor, limit });
      expect(a.status).toBe(200);
      const body = JSON.parse(a.body) as { v: number; records: R[]; next: string | null };
      expect(body.records.length).toBeLessThanOrEqual(limit);
      seen.push(...body.records.map((r) => r.username));
      if (body.next === null) return seen;
      cursor = body.next;
      await between?.(page);
    }
  };

  it('every device exactly once, in pages of any size', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `page-${i}`);
    for (const id of ids) await api('POST', '/devices', { id, password: `password-of-${id}` });
    const expected = (await walk(1000)).sort();
    expect(expected).toEqual(expect.arrayContaining(ids));
    for (const limit of [1, 7, 64, 149]) {
      const got = await walk(limit);
      expect(got.sort()).toEqual(expected);
    }
  });

  it('complete while devices come and go: each device present throughout comes exactly once', async () => {
    const stay = Array.from({ length: 60 }, (_, i) => `stay-${i}`);
    const go = Array.from({ length: 30 }, (_, i) => `go-${i}`);
    for (const id of [...stay, ...go])
      await api('POST', '/devices', { id, password: `pw-of-${id}` });
    let n = 0;
    const got = await walk(10, async () => {
      // Between pages: a device deleted, another created (in whatever bucket they hash to).
      const g = go[n];
      if (g !== undefined) await api('DELETE', `/devices/${g}`);
      await api('POST', '/devices', { id: `new-${n}`, password: `pw-of-new-${n}` });
      n++;
    });
    expect(n).toBeGreaterThan(5);
    for (const id of stay) expect(got.filter((x) => x === id)).toEqual([id]);
    expect(new Set(got).size).toBe(got.length);
  });
});
