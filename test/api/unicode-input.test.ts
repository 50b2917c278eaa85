// Ids and passwords that have no single UTF-8 spelling are refused with a 400 naming the field,
// instead of being stored as U+FFFD (so `dev\ud800` and `dev\udc00` were one device) or as one
// of two spellings a person reads as one (`café` in NFC and in NFD).
import request from 'supertest';
import { send } from '../support/http';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

let t: TestService;
beforeAll(async () => {
  t = await startTestService('unicode-input');
});
afterAll(() => t?.stop());

const api = () => request(t.service.server);
const create = (body: unknown) =>
  api()
    .post('/api/v1/devices')
    .set(ADMIN_AUTH)
    .send(body as object);
const raw = (bytes: Buffer) =>
  send(t.port, '/api/v1/devices', {
    body: bytes,
    headers: { ...ADMIN_AUTH, 'Content-Type': 'application/json' },
  });

it('an id with a lone surrogate is a 400 naming the id; nothing is stored', async () => {
  for (const id of ['uni-dev\ud800', 'uni-dev\udc00']) {
    const r = await create({ id }).expect(400);
    expect(r.body.error.message).toMatch(/^body\.id: must be well-formed Unicode/);
  }
  expect(await t.service.ctx.store.getUser('uni-dev\ufffd')).toBeNull();
});

it('a password with a lone surrogate is a 400 naming the password', async () => {
  const r = await create({ id: 'uni-pw', password: 'password-\ud800-x' }).expect(400);
  expect(r.body.error.message).toMatch(/^body\.password: must be well-formed Unicode/);
  expect(JSON.stringify(r.body)).not.toContain('password-');
  expect(await t.service.ctx.store.getUser('uni-pw')).toBeNull();
});

it('a body that is not valid UTF-8 is a 400 saying so, not a name with U+FFFD', async () => {
  const bytes = Buffer.concat([
    Buffer.from('{"id":"uni-bytes'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}'),
  ]);
  const r = await raw(bytes);
  expect(r.status).toBe(400);
  expect((JSON.parse(r.body) as { error: unknown }).error).toEqual({
    code: 'bad_request',
    message: 'body is not valid UTF-8',
  });
  const pw = Buffer.concat([
    Buffer.from('{"id":"uni-bytes-pw","password":"abcdefgh'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"}'),
  ]);
  expect((await raw(pw)).status).toBe(400);
  expect(await t.service.ctx.store.getUser('uni-bytes\ufffd\ufffd')).toBeNull();
  expect(await t.service.ctx.store.getUser('uni-bytes-pw')).toBeNull();
});

it('an id not in NFC is a 400 naming the NFC form; the NFC one is created', async () => {
  const nfd = 'uni-cafe\u0301';
  const r = await create({ id: nfd }).expect(400);
  expect(r.body.error.message).toMatch(/^body\.id: must be in Unicode normalization form NFC/);
  expect(r.body.error.message).toContain('"uni-caf\u00e9"');
  await create({ id: 'uni-caf\u00e9' }).expect(201);
  expect(await t.service.ctx.store.getUser(nfd)).toBeNull();
});

it('an id of only combining marks or blank characters is a 400', async () => {
  for (const id of ['\u0301\u0301', '\u3164', '\u2800\u2800']) {
    const r = await create({ id }).expect(400);
    expect(r.body.error.message).toMatch(/^body\.id: must contain a visible character/);
  }
});
