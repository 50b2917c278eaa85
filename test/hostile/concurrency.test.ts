// Scenario 3 at CI size (stress/concurrency.ts; `npm run stress` runs it at full size): three
// service processes, thousands of concurrent registrations with overlapping ids, then
// rotations racing deletions.
import { runConcurrency } from '../../stress/concurrency';

jest.setTimeout(150_000);

it('3 replicas: every 201 exactly once in Redis and the export, every overlap a 409, rotations and deletions consistent', async () => {
  const report = await runConcurrency({
    services: 3,
    registrations: 2000,
    idPool: 1200,
    concurrency: 48,
    rotationTargets: 90,
    rotationsPerChain: 4,
  });
  console.log(JSON.stringify(report, null, 2));
  expect(report.violations).toEqual([]);
  const f = report.figures;
  expect(f.registrations).toBe(2000);
  expect(Number(f.conflicts)).toBeGreaterThan(300); // the overlaps really happened
  expect(Number(f.created) + Number(f.conflicts)).toBe(2000);
  expect(Number(f.deleted)).toBeGreaterThan(0);
  expect(Number(f.rotationsRefusedAfterDelete)).toBeGreaterThan(0);
});
