// The API as a newcomer meets it: `acc` as words in POST /decide (and named in the error and the
// OpenAPI document), POST /export saying what to set when the export is off, and `serve`
// warning at startup when no admin token is configured (without printing any token).
import request from 'supertest';
import { NO_TOKEN_WARNING } from '../../src/cli/admin-token';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { startService, testPrefix } from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

let t: TestService;
const api = () => request(t.service.server);

beforeAll(async () => {
  t = await startTestService('newcomer-api'); // no PASSWD_FILE, no ACL_FILE: export off
  await api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .send({ id: 'nc-1', acl: [{ pattern: 'nc/%u/#', access: 'write' }] })
    .expect(201);
});
afterAll(() => t.stop());

describe('POST /decide acc', () => {
  const decide = (acc: unknown) =>
    api()
      .post('/api/v1/decide')
      .set(ADMIN_AUTH)
      .send({ username: 'nc-1', topic: 'nc/nc-1/x', acc });

  it.each([
    ['write', true],
    [2, true],
    ['readwrite', false],
    [3, false],
    ['read', false],
    [1, false],
  ] as const)('%p → allow %p, the same as go-auth numbers', async (acc, allow) => {
    const res = await decide(acc).expect(200);
    expect(res.body.allow).toBe(allow);
  });

  it('subscribe is 4', async () => {
    const [word, num] = await Promise.all([decide('subscribe'), decide(4)]);
    expect(word.body).toEqual(num.body);
  });

  it.each(['publish', 'WRITE', 5, '2', null])(
    '%p is a 400 naming the accepted values',
    async (acc) => {
      const res = await decide(acc).expect(400);
      expect(res.body.error.message).toMatch(
        /body\.acc: expected read, write, readwrite, subscribe, or 1-4/,
      );
    },
  );

  it('the OpenAPI document names the words and the numbers', async () => {
    const doc = (await api().get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const text = JSON.stringify(
      doc.paths['/api/v1/decide']!.post!.requestBody.content['application/json']!.schema,
    );
    for (const w of ['"read"', '"write"', '"readwrite"', '"subscribe"', '"const":4']) {
      expect(text).toContain(w);
    }
  });
});

describe('POST /export with the export off', () => {
  it('is a 409 export_not_configured naming the variables; GET still reports enabled: false', async () => {
    const res = await api().post('/api/v1/export').set(ADMIN_AUTH).expect(409);
    expect(res.body.error.code).toBe('export_not_configured');
    expect(res.body.error.message).toMatch(/set PASSWD_FILE and\/or ACL_FILE/);
    expect((await api().get('/api/v1/export').set(ADMIN_AUTH).expect(200)).body.enabled).toBe(
      false,
    );
  });

  it('the OpenAPI document lists the 409', async () => {
    const doc = (await api().get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths['/api/v1/export']!.post!.responses)).toContain('409');
  });
});

it('serve with no admin token and no terminal logs a warning, and no token', async () => {
  const prefix = testPrefix('newcomer-serve');
  const svc = await startService({
    env: { ...testRedisEnv(), REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'info' },
  });
  try {
    const until = Date.now() + 5000;
    while (!svc.logs().includes('no admin token configured') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const line = svc
      .logs()
      .split('\n')
      .find((l) => l.includes('no admin token configured'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 40, msg: NO_TOKEN_WARNING });
    expect(svc.logs()).not.toMatch(/TOKEN=/);
    const res = await fetch(`${svc.url}/api/v1/devices`);
    expect(res.status).toBe(401);
  } finally {
    await svc.stop();
    await cleanTestPrefix(prefix);
  }
});
