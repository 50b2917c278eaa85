// POST /api/v1/decide and GET /api/v1/lockouts on the real service and the real Redis. Every
// decision is also put to the broker check itself: the explainer must agree with it.
import request from 'supertest';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { checkUser, JSON_HEADERS, rawRequest } from '../support/http';

let t: TestService;
const api = () => request(t.service.server);
const decide = (body: Record<string, unknown>) =>
  api().post('/api/v1/decide').set(ADMIN_AUTH).send(body);
const brokerAcl = (username: string, clientid: string, topic: string, acc: number) =>
  rawRequest(
    t.port,
    'POST',
    '/mqtt/acl',
    JSON.stringify({ username, clientid, topic, acc }),
    JSON_HEADERS,
  );
const login = (username: string, password: string, clientid: string) =>
  checkUser(t.port, username, password, clientid);
const create = (body: Record<string, unknown>) =>
  api().post('/api/v1/devices').set(ADMIN_AUTH).send(body).expect(201);

beforeAll(async () => {
  t = await startTestService('decide', { AUTH_FAIL_LIMIT: '2', AUTH_LOCK_S: '600' });
  await api()
    .put('/api/v1/acl/common')
    .set(ADMIN_AUTH)
    .send({
      acl: [
        { pattern: 'devices/%u/#', access: 'readwrite' },
        { pattern: 'inbox/%c', access: 'read' },
        { pattern: 'broadcast/#', access: 'read' },
      ],
    })
    .expect(200);
  await create({
    id: 'own-1',
    acl: [
      { pattern: 'plant/%u/#', access: 'readwrite' },
      { pattern: 'plant/%u/secret', access: 'deny' },
      { pattern: 'status/#', access: 'read' },
      { pattern: '#', access: 'read' },
    ],
  });
  await create({ id: 'off-1', disabled: true, acl: [{ pattern: '#', access: 'readwrite' }] });
  await create({ id: 'root-1', superuser: true });
  await create({ id: 'bound-1', clientIds: ['%u-main'] });
  // A username with a wildcard cannot be registered through the API; an imported or damaged
  // record can still carry one, so it is written to the store directly.
  // A damaged record (its acl field is not JSON): every check refuses it.
  const { redis, keys } = t.raw();
  await redis.hset(keys.user('broken-1'), { hash: '', disabled: '0', acl: '[{oops' });
  const now = new Date().toISOString();
  await t.service.ctx.store.createUser({
    username: '+',
    hash: '$7$101$njERlZMi/7DzNB9E$/yzqCUhWGkAZ2+h0JzojJAjLCVTZ8quVVHhnC1Fbf3a7pClfzV0jRcbBYlOqTFCwR+52lEHnCgkqm8JkLG47bg==',
    superuser: false,
    disabled: false,
    acl: [{ pattern: 'x/%u', access: 'read' }],
    clientIds: [],
    metadata: {},
    createdAt: now,
    updatedAt: now,
  });
});
afterAll(() => t.stop());

type Row = [
  string,
  { username: string; clientid?: string; topic: string; acc: number },
  {
    allow: boolean;
    source: string | null;
    rule: { index: number; pattern: string; resolved?: string } | null;
    reason: RegExp;
  },
];

const table: Row[] = [
  [
    'own grant with %u',
    { username: 'own-1', clientid: 'c1', topic: 'plant/own-1/temp', acc: 2 },
    {
      allow: true,
      source: 'own',
      rule: { index: 0, pattern: 'plant/%u/#', resolved: 'plant/own-1/#' },
      reason: /write \(publish\) on "plant\/own-1\/temp" is granted by rule "plant\/%u\/#"/,
    },
  ],
  [
    'common grant with %u',
    // own rule '#' grants read only, so the write comes from the common rule
    { username: 'own-1', clientid: 'c1', topic: 'devices/own-1/cmd', acc: 2 },
    {
      allow: true,
      source: 'common',
      rule: { index: 0, pattern: 'devices/%u/#', resolved: 'devices/own-1/#' },
      reason: /granted by rule "devices\/%u\/#"/,
    },
  ],
  [
    'common grant with %c',
    { username: 'bound-1', clientid: 'bound-1-main', topic: 'inbox/bound-1-main', acc: 1 },
    {
      allow: true,
      source: 'common',
      rule: { index: 1, pattern: 'inbox/%c', resolved: 'inbox/bound-1-main' },
      reason: /granted by rule "inbox\/%c"/,
    },
  ],
  [
    '%c grant does not serve another client id',
    { username: 'own-1', clientid: 'c2', topic: 'inbox/c1', acc: 1 },
    // '#' read (own rule 3) covers it: the explainer names that rule, not inbox/%c
    { allow: true, source: 'own', rule: { index: 3, pattern: '#' }, reason: /rule "#"/ },
  ],
  [
    'deny wins over a grant',
    { username: 'own-1', clientid: 'c1', topic: 'plant/own-1/secret', acc: 2 },
    {
      allow: false,
      source: 'own',
      rule: { index: 1, pattern: 'plant/%u/secret', resolved: 'plant/own-1/secret' },
      reason: /deny rule "plant\/%u\/secret" matches "plant\/own-1\/secret"; a deny wins/,
    },
  ],
  [
    'deny inside a subscription filter',
    { username: 'own-1', clientid: 'c1', topic: 'plant/own-1/+', acc: 4 },
    {
      allow: false,
      source: 'own',
      rule: { index: 1, pattern: 'plant/%u/secret' },
      reason: /matches part of the filter "plant\/own-1\/\+"/,
    },
  ],
  [
    'no grant for write',
    { username: 'own-1', clientid: 'c1', topic: 'status/x', acc: 2 },
    {
      allow: false,
      source: null,
      rule: null,
      reason:
        /^no rule grants write \(publish\) on "status\/x"; rule "status\/#" matches but grants read only/,
    },
  ],
  [
    'subscribe filter only partly covered',
    { username: 'bound-1', clientid: 'bound-1-main', topic: 'devices/#', acc: 4 },
    {
      allow: false,
      source: null,
      rule: null,
      reason:
        /no rule grants subscribe on the filter "devices\/#"; "devices\/bound-1\/#" covers only part of it \("devices\/other" is not covered\)/,
    },
  ],
  [
    '$SYS is not matched by a wildcard-first rule',
    { username: 'own-1', clientid: 'c1', topic: '$SYS/broker/uptime', acc: 1 },
    {
      allow: false,
      source: null,
      rule: null,
      reason: /rule "#" starts with a wildcard, which never matches \$ topics/,
    },
  ],
  [
    'disabled device',
    { username: 'off-1', clientid: 'c1', topic: 'a', acc: 2 },
    { allow: false, source: null, rule: null, reason: /^the device is disabled$/ },
  ],
  [
    'damaged record',
    { username: 'broken-1', clientid: 'c1', topic: 'a', acc: 2 },
    {
      allow: false,
      source: null,
      rule: null,
      reason:
        /^the stored record is damaged \(hash: missing; acl: not JSON\); the device is refused until it is rewritten$/,
    },
  ],
  [
    'unknown device',
    { username: 'ghost-1', clientid: 'c1', topic: 'a', acc: 2 },
    { allow: false, source: null, rule: null, reason: /^no device "ghost-1" is registered$/ },
  ],
  [
    'wildcard username never fills %u',
    { username: '+', clientid: 'c1', topic: 'x/+', acc: 4 },
    {
      allow: false,
      source: null,
      rule: null,
      reason: /rule "x\/%u" is skipped: a username that is empty or contains \+, # or \//,
    },
  ],
  [
    'invalid topic name',
    { username: 'own-1', clientid: 'c1', topic: 'plant/+', acc: 2 },
    { allow: false, source: null, rule: null, reason: /not a valid topic name/ },
  ],
  [
    'superuser',
    { username: 'root-1', clientid: 'c1', topic: 'anything/at/all', acc: 3 },
    { allow: true, source: 'superuser', rule: null, reason: /superuser/ },
  ],
];

describe('POST /api/v1/decide', () => {
  it.each(table)('%s', async (_name, input, want) => {
    const res = await decide(input).expect(200);
    expect(res.body.allow).toBe(want.allow);
    expect(res.body.source).toBe(want.source);
    expect(res.body.reason).toMatch(want.reason);
    if (want.rule === null) expect(res.body.rule).toBeNull();
    else expect(res.body.rule).toMatchObject(want.rule);
    expect(JSON.stringify(res.body)).not.toContain('$7$');
    // The broker check agrees (superuser aside: go-auth asks /mqtt/superuser first).
    if (want.source !== 'superuser') {
      const broker = await brokerAcl(input.username, input.clientid ?? '', input.topic, input.acc);
      expect(broker.status).toBe(want.allow ? 200 : 403);
    }
  });

  it('explains the user check without a password: client id not allowed', async () => {
    const res = await decide({ username: 'bound-1', clientid: 'other', topic: 'a', acc: 1 });
    expect(res.body.connect).toMatchObject({
      exists: true,
      disabled: false,
      clientIdAllowed: false,
      allow: false,
    });
    expect(res.body.connect.reason).toMatch(/client id "other" is not one of .*%u-main/);
    const ok = await decide({ username: 'bound-1', clientid: 'bound-1-main', topic: 'a', acc: 1 });
    expect(ok.body.connect).toMatchObject({ allow: true, clientIdAllowed: true });
  });

  it('reads the record fresh: a change is explained at once', async () => {
    const input = { username: 'own-1', clientid: 'c1', topic: 'fresh/x', acc: 2 };
    await brokerAcl('own-1', 'c1', 'fresh/x', 2); // warm the check cache
    expect((await decide(input)).body.allow).toBe(false);
    await api()
      .put('/api/v1/devices/own-1/acl')
      .set(ADMIN_AUTH)
      .send({ acl: [{ pattern: 'fresh/#', access: 'write' }] })
      .expect(200);
    const after = await decide(input).expect(200);
    expect(after.body).toMatchObject({ allow: true, source: 'own', rule: { index: 0 } });
  });

  it('rejects bad bodies with a 400 naming the field, and calls without a token', async () => {
    const bad = await decide({ username: 'own-1', topic: 'a', acc: 5 }).expect(400);
    expect(bad.body.error.message).toMatch(/^body\.acc/);
    const missing = await decide({ username: 'own-1', acc: 1 }).expect(400);
    expect(missing.body.error.message).toMatch(/^body\.topic/);
    await decide({ username: 'own-1', topic: 'a', acc: 1, password: 'x' }).expect(400);
    await api().post('/api/v1/decide').send({ username: 'a', topic: 'a', acc: 1 }).expect(401);
  });
});

describe('GET /api/v1/lockouts', () => {
  const lockOut = async (username: string, clientid: string) => {
    for (let i = 0; i < 3; i++)
      expect((await login(username, 'wrong-password', clientid)).status).toBe(403);
  };

  it('lists current lockouts with failures and time left, paged, and forgets cleared ones', async () => {
    await create({ id: 'lock-a' });
    await lockOut('lock-a', 'cid-a');
    await lockOut('lock-b', 'cid-b');
    const all = await api().get('/api/v1/lockouts?limit=500').set(ADMIN_AUTH).expect(200);
    const names = all.body.lockouts.map(
      (l: { kind: string; name: string }) => `${l.kind}:${l.name}`,
    );
    expect(names.sort()).toEqual(
      ['clientid:cid-a', 'clientid:cid-b', 'username:lock-a', 'username:lock-b'].sort(),
    );
    for (const l of all.body.lockouts) {
      expect(l).toMatchObject({ locked: true, truncated: false });
      expect(l.failures).toBeGreaterThanOrEqual(2); // AUTH_FAIL_LIMIT
      expect(l.retryAfterS).toBeGreaterThan(500);
      expect(l.retryAfterS).toBeLessThanOrEqual(600);
    }
    expect(all.body.next).toBeNull();

    // Pages of one: every lockout exactly once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await api()
        .get(`/api/v1/lockouts?limit=1${cursor ? `&cursor=${cursor}` : ''}`)
        .set(ADMIN_AUTH)
        .expect(200);
      expect(page.body.lockouts.length).toBeLessThanOrEqual(1);
      for (const l of page.body.lockouts) seen.push(`${l.kind}:${l.name}`);
      cursor = page.body.next;
    } while (cursor);
    expect(seen.sort()).toEqual(names.sort());

    // The explainer says so too.
    const d = await decide({ username: 'lock-a', clientid: 'cid-x', topic: 'a', acc: 1 });
    expect(d.body.connect.allow).toBe(false);
    expect(d.body.connect.reason).toMatch(/^user name locked out for \d+ s more/);

    await api().delete('/api/v1/lockouts/username/lock-a').set(ADMIN_AUTH).expect(204);
    const after = await api().get('/api/v1/lockouts').set(ADMIN_AUTH).expect(200);
    expect(after.body.lockouts.map((l: { name: string }) => l.name)).not.toContain('lock-a');
    expect(after.body.lockouts).toHaveLength(3);
  });

  it('rejects a bad limit or cursor with a 400', async () => {
    await api().get('/api/v1/lockouts?limit=0').set(ADMIN_AUTH).expect(400);
    const res = await api().get('/api/v1/lockouts?cursor=nonsense').set(ADMIN_AUTH).expect(400);
    expect(res.body.error.message).toMatch(/cursor/);
  });
});

describe('GET /api/v1/stats/checks', () => {
  it('counts the broker checks this process answered, by result and kind', async () => {
    const before = (await api().get('/api/v1/stats/checks').set(ADMIN_AUTH).expect(200)).body;
    await brokerAcl('bound-1', 'bound-1-main', 'devices/bound-1/x', 2); // allow
    await brokerAcl('own-1', 'c1', 'nowhere', 2); // deny
    const after = (await api().get('/api/v1/stats/checks').set(ADMIN_AUTH).expect(200)).body;
    expect(after.total.allow - before.total.allow).toBe(1);
    expect(after.total.deny - before.total.deny).toBe(1);
    expect(after.byKind.acl.allow).toBeGreaterThanOrEqual(1);
    expect(Date.parse(after.at)).toBeGreaterThanOrEqual(Date.parse(before.at));
  });
});

describe('OpenAPI', () => {
  it('documents /decide and /lockouts', async () => {
    const doc = await api().get('/api/v1/openapi.json').expect(200);
    const body = doc.body.paths['/api/v1/decide'].post.requestBody.content['application/json'];
    expect(Object.keys(body.schema.properties)).toEqual(
      expect.arrayContaining(['username', 'topic', 'acc']),
    );
    expect(
      doc.body.paths['/api/v1/lockouts'].get.parameters.map((p: { name: string }) => p.name),
    ).toEqual(['limit', 'cursor']);
  });
});
