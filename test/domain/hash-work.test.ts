// The hashing-work bound: hashes above PASSWD_MAX_ITERATIONS are never derived, cheaper ones
// are padded to the cost of an unknown user, and dear ones verify one at a time.
import { randomBytes } from 'node:crypto';
import { HashWork, overWorkBound, workOf } from '../../src/domain/hash-work';

const HEAVY_QUEUE = 16;
import { parsePasswdLine } from '../../src/domain/mosquitto-files';
import { hashPassword, parseHash } from '../../src/domain/passwd-hash';
import { OverloadedError } from '../../src/errors';

/** A well-formed `$7$` hash at `iterations` (never derived by these tests). */
const hashAt = (iterations: number): string =>
  `$7$${iterations}$${randomBytes(12).toString('base64')}$${randomBytes(64).toString('base64')}`;

const work = new HashWork({ maxIterations: 100_000, padTo: 101 });

it('refuses a hash above the bound without deriving it (20 000 000 iterations)', async () => {
  // Deriving it would take tens of seconds: the test's 5 s timeout is the proof.
  await expect(work.verify('any-password', hashAt(20_000_000))).resolves.toBe('unusable');
  expect(overWorkBound(hashAt(20_000_000), 100_000)).toBe(true);
  expect(overWorkBound(hashAt(100_000), 100_000)).toBe(false);
});

it('verifies at the bound, $6$ and low counts (padded) as before', async () => {
  const at = await hashPassword('pw-at-bound', { iterations: 100_000, saltBytes: 12 });
  await expect(work.verify('pw-at-bound', at)).resolves.toBe('match');
  const low = await hashPassword('pw-low', { iterations: 5, saltBytes: 12 });
  await expect(work.verify('pw-low', low)).resolves.toBe('match');
  await expect(work.verify('pw-lo', low)).resolves.toBe('mismatch');
  await expect(work.verify('x', '$7$nonsense')).resolves.toBe('malformed');
});

it('counts $6$ as one iteration and $7$ by its count', () => {
  expect(workOf(parseHash(hashAt(1234)) as NonNullable<ReturnType<typeof parseHash>>)).toBe(1234);
});

it(`runs dear hashes one at a time and refuses more than ${HEAVY_QUEUE} waiting`, async () => {
  const lane = new HashWork({
    maxIterations: 1_000_000,
    padTo: 10,
    slowLaneQueue: HEAVY_QUEUE,
    slowLaneMaxWaitMs: 600_000,
  });
  const dear = await hashPassword('dear-password', { iterations: 2000, saltBytes: 12 });
  const results = await Promise.allSettled(
    Array.from({ length: HEAVY_QUEUE + 2 }, () => lane.verify('dear-password', dear)),
  );
  const rejected = results.filter((r) => r.status === 'rejected');
  expect(rejected).toHaveLength(1);
  expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(OverloadedError);
  expect(results.filter((r) => r.status === 'fulfilled' && r.value === 'match')).toHaveLength(
    HEAVY_QUEUE + 1,
  );
  // The lane is free again afterwards.
  await expect(lane.verify('dear-password', dear)).resolves.toBe('match');
});

it('refuses a slow-lane login at once when the work ahead would not be done within the wait bound', async () => {
  const lane = new HashWork({ maxIterations: 1_000_000, padTo: 10, slowLaneMaxWaitMs: 1 });
  const dear = await hashPassword('dear-password', { iterations: 20_000, saltBytes: 12 });
  await expect(lane.verify('dear-password', dear)).resolves.toBe('match'); // measures the speed
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => lane.verify('dear-password', dear)),
  );
  // one runs; the others would wait more than 1 ms
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  expect(lane.slowLane()).toMatchObject({ running: 0, waiting: 0 });
});

it('drops a slow-lane login from the queue when its asker goes away', async () => {
  const lane = new HashWork({ maxIterations: 1_000_000, padTo: 10, slowLaneMaxWaitMs: 600_000 });
  const dear = await hashPassword('dear-password', { iterations: 200_000, saltBytes: 12 });
  const first = lane.verify('dear-password', dear);
  const gone = new AbortController();
  const second = lane.verify('dear-password', dear, gone.signal);
  expect(lane.slowLane().waiting).toBe(1);
  gone.abort();
  await expect(second).rejects.toBeInstanceOf(OverloadedError);
  expect(lane.slowLane().waiting).toBe(0);
  await expect(first).resolves.toBe('match');
  // an asker gone before its login reached the queue does not wait at all
  const busy = lane.verify('dear-password', dear);
  await expect(lane.verify('dear-password', dear, AbortSignal.abort())).rejects.toBeInstanceOf(
    OverloadedError,
  );
  expect(lane.slowLane().waiting).toBe(0);
  await expect(busy).resolves.toBe('match');
});

it('an import reports a hash above the bound with its line, and does not import it', () => {
  const problem = parsePasswdLine(`slow:${hashAt(20_000_000)}`, 7, 100_000);
  expect(problem).toEqual({ line: 7, message: expect.stringMatching(/PASSWD_MAX_ITERATIONS/) });
  expect(parsePasswdLine(`ok:${hashAt(1000)}`, 8, 100_000)).toMatchObject({ username: 'ok' });
});
