// Idempotency-Key records are kept per admin token: another token's request with the same key
// runs afresh (here: a conflict) and never gets the first token's answer (its password).
import request from 'supertest';
import { startTestService, type TestService } from '../support/service';

const ALICE = { name: 'alice', token: 'alice-token-A-0123456789' };
const CAROL = { name: 'carol', token: 'carol-token-C-0123456789' };

let t: TestService;
beforeAll(async () => {
  t = await startTestService('idem-tokens', {}, { adminTokens: [ALICE, CAROL] });
});
afterAll(() => t?.stop());

const create = (token: string, key: string) =>
  request(t.service.server)
    .post('/api/v1/devices')
    .set('Authorization', `Bearer ${token}`)
    .set('Idempotency-Key', key)
    .send({ id: 'idem-tok' });

it("another token's request with the same key is not a replay of the first", async () => {
  const key = `idem-tokens-${process.pid}-${Date.now()}-abcdef`;
  const first = await create(ALICE.token, key).expect(201);
  expect(first.body.password).toEqual(expect.any(String));
  const other = await create(CAROL.token, key);
  expect(other.headers['idempotent-replayed']).toBeUndefined();
  expect(JSON.stringify(other.body)).not.toContain(first.body.password);
  expect(other.status).toBe(409); // run afresh: the device exists
  expect(other.body.error.code).not.toMatch(/^idempotency_/);
  // the first token's retry still replays
  const again = await create(ALICE.token, key).expect(201);
  expect(again.body.password).toBe(first.body.password);
});
