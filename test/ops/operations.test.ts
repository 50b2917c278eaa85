// Health, readiness, metrics, audit and the OpenAPI document on the real service.
import request from 'supertest';
import { createApiRouter } from '../../src/api/api-router';
import { createLockoutsRouter } from '../../src/api/lockouts-router';

interface Layerish {
  stack?: Layerish[];
  handle?: Layerish;
  route?: { path: string; methods: Record<string, boolean> };
}
/** Every (method, path) an Express router serves, through nested routers. */
function walk(router: Layerish): string[] {
  const out: string[] = [];
  for (const layer of router.stack ?? []) {
    if (layer.route) {
      const path = '/api/v1' + layer.route.path.replace(/:(\w+)/g, '{$1}');
      for (const m of Object.keys(layer.route.methods)) out.push(`${m} ${path}`);
    } else if (layer.handle?.stack) {
      out.push(...walk(layer.handle));
    }
  }
  return out;
}
import { ADMIN, ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { JSON_HEADERS, rawRequest } from '../support/http';

const auth = ADMIN_AUTH;
let t: TestService;
beforeAll(async () => {
  t = await startTestService('ops');
});
afterAll(() => t.stop());

it('/healthz and /readyz answer JSON', async () => {
  const h = await request(t.service.server).get('/healthz').expect(200);
  expect(h.body.status).toBe('ok');
  const r = await request(t.service.server).get('/readyz').expect(200);
  expect(r.body).toMatchObject({
    status: 'ready',
    checks: { redis: 'ok', events: 'ok', export: 'ok' },
  });
  // Which Redis and which primary (the shared test Redis, standalone here).
  expect(r.body.redis.topology).toBe('standalone');
  expect(r.body.redis.primaries).toEqual([expect.stringMatching(/:\d+$/)]);
});

it('/metrics counts checks by kind and result, with no usernames or topics in labels', async () => {
  await t.service.ctx.devices.create({ id: 'metric-dev', password: 'metric-password' });
  await rawRequest(
    t.port,
    'POST',
    '/mqtt/user',
    '{"username":"metric-dev","password":"metric-password","clientid":"c"}',
    JSON_HEADERS,
  );
  await rawRequest(
    t.port,
    'POST',
    '/mqtt/acl',
    '{"username":"metric-dev","topic":"secret/topic","acc":2,"clientid":"c"}',
    JSON_HEADERS,
  );
  await request(t.service.server).get('/api/v1/devices').set(auth).expect(200);
  const text = (await request(t.service.server).get('/metrics').expect(200)).text;
  expect(text).toMatch(/mqtt_authd_checks_total\{kind="user",result="allow"\} 1/);
  expect(text).toMatch(/mqtt_authd_checks_total\{kind="acl",result="deny"\} 1/);
  expect(text).toMatch(/mqtt_authd_check_duration_seconds_bucket\{le="0.001",kind="user"\}/);
  expect(text).toMatch(
    /mqtt_authd_management_requests_total\{route="\/devices",method="GET",status="200"\} 1/,
  );
  for (const name of [
    'mqtt_authd_redis_errors_total',
    'mqtt_authd_export_runs_total',
    'mqtt_authd_lockouts_total',
  ]) {
    expect(text).toContain(`# TYPE ${name}`);
  }
  expect(text).not.toContain('metric-dev');
  expect(text).not.toContain('secret/topic');
});

it('the audit trail names the admin token, never a password or hash', async () => {
  const api = request(t.service.server);
  await api
    .post('/api/v1/devices')
    .set(auth)
    .send({ id: 'audited', password: 'audited-password' })
    .expect(201);
  await api.post('/api/v1/devices/audited/password').set(auth).send({}).expect(200);
  await api.patch('/api/v1/devices/audited').set(auth).send({ disabled: true }).expect(200);
  await api.delete('/api/v1/devices/audited').set(auth).expect(204);
  const res = await api.get('/api/v1/audit?limit=4').set(auth).expect(200);
  const entries = res.body.entries as {
    actor: string;
    action: string;
    target: string;
    before: unknown;
    after: unknown;
  }[];
  expect(entries.map((e) => e.action)).toEqual(['delete', 'update', 'rotate', 'create']);
  expect(entries.every((e) => e.actor === ADMIN.name && e.target === 'audited')).toBe(true);
  expect(entries[1]).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
  const raw = JSON.stringify(res.body);
  expect(raw).not.toContain('audited-password');
  expect(raw).not.toMatch(/\$7\$\d/); // a hash; `"hashScheme":"$7$"` only names the scheme
  const older = await api
    .get(`/api/v1/audit?limit=2&before=${res.body.entries[1].id}`)
    .set(auth)
    .expect(200);
  expect(older.body.entries.map((e: { action: string }) => e.action)).toEqual(['rotate', 'create']);
});

it('the OpenAPI 3.1 document lists every route the API serves', async () => {
  const doc = (await request(t.service.server).get('/api/v1/openapi.json').expect(200)).body;
  expect(doc.openapi).toBe('3.1.0');
  const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => `${m} ${p}`),
  );
  // Not the route table the document is generated from: what Express really serves, found
  // by walking its router stack, must be exactly what the document lists.
  const api = createApiRouter(t.service.ctx, {
    exporter: t.service.exporter,
    audit: t.service.audit,
    extra: [createLockoutsRouter(t.service.ctx.throttle, t.service.ctx.lockouts, t.service.audit)],
  });
  const live = walk(api as unknown as Layerish);
  expect(live.length).toBeGreaterThan(10);
  expect(live.filter((r) => r !== 'get /api/v1/openapi.json').sort()).toEqual(documented.sort());
  expect(
    doc.paths['/api/v1/devices'].post.requestBody.content['application/json'].schema.properties.id,
  ).toMatchObject({ type: 'string' });
});
