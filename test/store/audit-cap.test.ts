// AUDIT_MAX_ENTRIES bounds the whole audit trail, exactly: its 66 streams (64 buckets, common
// rules, lockouts) keep ⌊total / 66⌋ entries each. It capped each stream, approximately
// (`MAXLEN ~`): ~66 × 1.5 × the setting in all, where the docs said "the audit stream".
import { startTestService, type TestService } from '../support/service';
import { BUCKETS } from '../../src/store/keys';

let t: TestService;
beforeAll(async () => {
  t = await startTestService('audit-cap', { AUDIT_MAX_ENTRIES: '132' }); // 2 per stream
});
afterAll(() => t?.stop());

async function lengths(): Promise<number[]> {
  const { redis, keys } = t.raw();
  const streams = [
    ...Array.from({ length: BUCKETS }, (_, b) => keys.auditBucket(b)),
    keys.auditCommon,
    keys.audit,
  ];
  return Promise.all(streams.map((k) => redis.xlen(k)));
}

it('one busy device keeps exactly its stream share, and the trail never exceeds the total', async () => {
  const devices = t.service.ctx.devices.as('tester');
  await devices.create({ id: 'cap-busy', password: 'cap-busy-password' });
  for (let i = 0; i < 10; i++) await devices.patch('cap-busy', { metadata: { n: String(i) } });
  const { redis, keys } = t.raw();
  expect(await redis.xlen(keys.auditBucket(keys.bucketOf('cap-busy')))).toBe(2);
  // What is kept is the newest: the busy device's last update is still there.
  const page = await t.service.ctx.auditStore.page(1000);
  const busy = page.rows.filter((r) => r.fields.target === 'cap-busy');
  expect(busy.map((r) => JSON.parse(r.fields.after ?? '{}').metadata?.n)).toEqual(['9', '8']);
  for (let i = 0; i < 300; i += 30) {
    await Promise.all(
      Array.from({ length: 30 }, (_, k) =>
        devices.create({ id: `cap-${i + k}`, password: 'cap-device-password' }),
      ),
    );
  }
  const all = await lengths();
  expect(all.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(132);
  expect(Math.max(...all)).toBe(2);
});
