// The management API on the real service and the real Redis.
import request from 'supertest';
import { createLogger } from '../../src/logger';
import { buildService } from '../../src/main';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { JSON_HEADERS, eventually, rawRequest } from '../support/http';

let t: TestService;
const auth = ADMIN_AUTH;
const api = () => request(t.service.server);
const login = (username: string, password: string, clientid = 'c') =>
  rawRequest(
    t.port,
    'POST',
    '/mqtt/user',
    JSON.stringify({ username, password, clientid }),
    JSON_HEADERS,
  );

beforeAll(async () => {
  t = await startTestService('api');
});
afterAll(() => t.stop());

describe('authentication', () => {
  it('refuses calls without or with a wrong token, without telling whether a device exists', async () => {
    await api().post('/api/v1/devices').set(auth).send({ id: 'exists-1' }).expect(201);
    for (const headers of [
      {},
      { Authorization: 'Bearer wrong-token-wrong-token' },
      { Authorization: 'Basic x' },
    ]) {
      const a = await api().get('/api/v1/devices/exists-1').set(headers);
      const b = await api().get('/api/v1/devices/missing-1').set(headers);
      expect(a.status).toBe(401);
      expect(b.status).toBe(401);
      expect(a.body).toEqual(b.body);
      expect(a.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('with no token configured refuses everything and says how to configure one', async () => {
    const bare = await buildService(t.config, { adminTokens: [], logger: createLogger('silent') });
    try {
      const res = await request(bare.server).get('/api/v1/devices').set(auth);
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/ADMIN_TOKENS/);
    } finally {
      await bare.stop();
    }
  });

  it('sets security headers (helmet) on API answers', async () => {
    const res = await api().get('/api/v1/devices').set(auth);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
  });
});

describe('POST /devices', () => {
  it('creates with a generated id and password (≥128 bits, URL-safe) shown once', async () => {
    const res = await api().post('/api/v1/devices').set(auth).send({}).expect(201);
    expect(res.body.id).toMatch(/^dev-[0-9a-f]{32}$/);
    expect(res.body.username).toBe(res.body.id);
    expect(res.body.password).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(res.body.hash).toBeUndefined();
    expect((await login(res.body.id, res.body.password)).status).toBe(200);
    const again = await api().get(`/api/v1/devices/${res.body.id}`).set(auth).expect(200);
    expect(again.body.password).toBeUndefined();
    expect(again.body.hash).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toMatch(/\$7\$\d/); // the scheme, never the hash
    expect(again.body.hashScheme).toBe('$7$');
  });

  it('creates with the given fields and answers 409 for an existing id', async () => {
    const body = {
      id: 'sensor-1',
      password: 'correct horse battery',
      superuser: false,
      acl: [{ pattern: 'plant/%u/#', access: 'readwrite' }],
      clientIds: ['%u'],
      metadata: { site: 'north', floor: 3 },
    };
    const res = await api().post('/api/v1/devices').set(auth).send(body).expect(201);
    expect(res.body).toMatchObject({ ...body, username: 'sensor-1', disabled: false });
    const dup = await api().post('/api/v1/devices').set(auth).send(body).expect(409);
    expect(dup.body.error.code).toBe('conflict');
    expect((await login('sensor-1', 'correct horse battery', 'sensor-1')).status).toBe(200);
    expect((await login('sensor-1', 'correct horse battery', 'other')).status).toBe(403);
  });

  const badIds: [string, RegExp][] = [
    ['a:b', /":"/],
    ['a b', /whitespace/],
    ['a\nb', /control/],
    ['a\u0000b', /control/],
    ['a+b', /"\+"/],
    ['a#b', /"#"/],
    ['a/b', /"\/"/],
    ['', /empty/],
    ['x'.repeat(129), /128/],
  ];
  it.each(badIds)('rejects id %j with a 400 naming the rule', async (id, rule) => {
    const res = await api().post('/api/v1/devices').set(auth).send({ id }).expect(400);
    expect(res.body.error.message).toMatch(/^body\.id: /);
    expect(res.body.error.message).toMatch(rule);
  });

  const badBodies: [string, unknown, RegExp][] = [
    ['unknown field', { id: 'u1', admin: true }, /body: .*admin/],
    ['short password', { password: 'short' }, /body\.password/],
    ['wrong type', { superuser: 'yes' }, /body\.superuser/],
    ['bad access', { acl: [{ pattern: 'a/b', access: 'all' }] }, /body\.acl\.0\.access/],
    ['bad filter', { acl: [{ pattern: 'a/#/b', access: 'read' }] }, /body\.acl\.0\.pattern/],
    ['rule extra field', { acl: [{ pattern: 'a', access: 'read', qos: 1 }] }, /body\.acl\.0/],
    ['array body', [1, 2], /body/],
  ];
  it.each(badBodies)('rejects %s with a 400 naming the field', async (_n, body, field) => {
    const res = await api()
      .post('/api/v1/devices')
      .set(auth)
      .send(body as object)
      .expect(400);
    expect(res.body.error.message).toMatch(field);
  });

  it('rejects malformed JSON and non-JSON bodies with 4xx', async () => {
    const bad = await api()
      .post('/api/v1/devices')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"id":');
    expect(bad.status).toBe(400);
    const form = await api().post('/api/v1/devices').set(auth).type('form').send('id=x');
    expect(form.status).toBe(415);
  });
});

describe('read, list, change, delete', () => {
  beforeAll(async () => {
    for (const id of ['list-a', 'list-b', 'list-c', 'list-d', 'list-e']) {
      await api()
        .post('/api/v1/devices')
        .set(auth)
        .send({ id, password: 'password-1' })
        .expect(201);
    }
  });

  it('GET /devices/:id answers 404 for an unknown id', async () => {
    const res = await api().get('/api/v1/devices/nope').set(auth).expect(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('lists only ids starting with ?prefix=, paged', async () => {
    for (const id of ['pfx-a1', 'pfx-a2', 'pfx-a3', 'pfx-b1', 'pfxa-1', 'pf-x'])
      await api().post('/api/v1/devices').set(auth).send({ id }).expect(201);
    const first = await api().get('/api/v1/devices?prefix=pfx-a&limit=2').set(auth).expect(200);
    expect(first.body.devices.map((d: { id: string }) => d.id)).toEqual(['pfx-a1', 'pfx-a2']);
    const rest = await api()
      .get(`/api/v1/devices?prefix=pfx-a&limit=2&cursor=${first.body.next}`)
      .set(auth)
      .expect(200);
    expect(rest.body.devices.map((d: { id: string }) => d.id)).toEqual(['pfx-a3']);
    expect(rest.body.next).toBeNull();
    const none = await api().get('/api/v1/devices?prefix=zzz-none').set(auth).expect(200);
    expect(none.body).toEqual({ devices: [], next: null });
  });

  it('paginates with a cursor that stays correct while devices come and go', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const q: Record<string, string> = { limit: '2' };
      if (cursor) q.cursor = cursor;
      const res = await api().get('/api/v1/devices').query(q).set(auth).expect(200);
      seen.push(...res.body.devices.map((d: { id: string }) => d.id));
      cursor = res.body.next;
      if (page++ === 0) {
        // mid-walk: remove one not yet seen, add one after the cursor and one before it
        await api().delete('/api/v1/devices/list-d').set(auth).expect(204);
        await api().post('/api/v1/devices').set(auth).send({ id: 'list-z' }).expect(201);
        await api().post('/api/v1/devices').set(auth).send({ id: 'aaa-before' }).expect(201);
      }
    } while (cursor);
    const ours = seen.filter((id) => id.startsWith('list-'));
    expect(ours).toEqual(['list-a', 'list-b', 'list-c', 'list-e', 'list-z']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects a bad limit or cursor with 400', async () => {
    await api().get('/api/v1/devices?limit=0').set(auth).expect(400);
    await api().get('/api/v1/devices?limit=abc').set(auth).expect(400);
    await api().get('/api/v1/devices?cursor=%%%').set(auth).expect(400);
  });

  it('PATCH disables and re-enables; unknown fields and empty patches are 400', async () => {
    await api().patch('/api/v1/devices/list-a').set(auth).send({ disabled: true }).expect(200);
    await eventually(async () => expect((await login('list-a', 'password-1')).status).toBe(403));
    await api()
      .patch('/api/v1/devices/list-a')
      .set(auth)
      .send({ disabled: false, metadata: { k: 'v' } })
      .expect(200);
    await eventually(async () => expect((await login('list-a', 'password-1')).status).toBe(200));
    await api().patch('/api/v1/devices/list-a').set(auth).send({}).expect(400);
    await api().patch('/api/v1/devices/list-a').set(auth).send({ password: 'x' }).expect(400);
    await api().patch('/api/v1/devices/nope').set(auth).send({ disabled: true }).expect(404);
  });

  it('rotation returns a new password once; the old one is refused from then on', async () => {
    expect((await login('list-b', 'password-1')).status).toBe(200);
    const res = await api().post('/api/v1/devices/list-b/password').set(auth).send({}).expect(200);
    expect(res.body.password).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    await eventually(async () => expect((await login('list-b', 'password-1')).status).toBe(403));
    expect((await login('list-b', res.body.password)).status).toBe(200);
    await api().post('/api/v1/devices/nope/password').set(auth).send({}).expect(404);
  });

  it('PUT /acl replaces the own rules, effective at once', async () => {
    const acl = (topic: string) =>
      rawRequest(
        t.port,
        'POST',
        '/mqtt/acl',
        JSON.stringify({ username: 'list-c', clientid: 'c', topic, acc: 2 }),
        JSON_HEADERS,
      );
    expect((await acl('fleet/x')).status).toBe(403);
    await api()
      .put('/api/v1/devices/list-c/acl')
      .set(auth)
      .send({ acl: [{ pattern: 'fleet/#', access: 'write' }] })
      .expect(200);
    await eventually(async () => expect((await acl('fleet/x')).status).toBe(200));
    await api().put('/api/v1/devices/list-c/acl').set(auth).send({ acl: [] }).expect(200);
    await eventually(async () => expect((await acl('fleet/x')).status).toBe(403));
    await api().put('/api/v1/devices/list-c/acl').set(auth).send({ rules: [] }).expect(400);
  });

  it('DELETE answers 204 then 404, and the device is refused', async () => {
    await api().delete('/api/v1/devices/list-e').set(auth).expect(204);
    await api().delete('/api/v1/devices/list-e').set(auth).expect(404);
    await eventually(async () => expect((await login('list-e', 'password-1')).status).toBe(403));
  });
});

describe('common rules', () => {
  it('defaults to devices/%u/# readwrite and can be replaced', async () => {
    const res = await api().get('/api/v1/acl/common').set(auth).expect(200);
    expect(res.body.acl).toEqual([{ pattern: 'devices/%u/#', access: 'readwrite' }]);
    await api()
      .post('/api/v1/devices')
      .set(auth)
      .send({ id: 'common-1', password: 'password-1' })
      .expect(201);
    const acl = (topic: string) =>
      rawRequest(
        t.port,
        'POST',
        '/mqtt/acl',
        JSON.stringify({ username: 'common-1', clientid: 'c', topic, acc: 1 }),
        JSON_HEADERS,
      );
    expect((await acl('devices/common-1/cmd')).status).toBe(200);
    expect((await acl('broadcast/all')).status).toBe(403);
    await api()
      .put('/api/v1/acl/common')
      .set(auth)
      .send({ acl: [{ pattern: 'broadcast/#', access: 'read' }] })
      .expect(200);
    await eventually(async () => expect((await acl('broadcast/all')).status).toBe(200));
    expect((await acl('devices/common-1/cmd')).status).toBe(403);
    await api()
      .put('/api/v1/acl/common')
      .set(auth)
      .send({ acl: [{ pattern: '#/a', access: 'read' }] })
      .expect(400);
    await api()
      .put('/api/v1/acl/common')
      .set(auth)
      .send({ acl: [{ pattern: 'devices/%u/#', access: 'readwrite' }] })
      .expect(200);
  });
});
