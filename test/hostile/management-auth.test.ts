// Scenario 5 at CI size (stress/management-auth.ts; `npm run stress` runs it at full size):
// every documented management route, called with generated wrong or missing credentials.
import { runManagementAuth } from '../../stress/management-auth';

jest.setTimeout(60_000);

it('wrong or missing credentials: 401 on every route, identical for existing and missing devices; helmet headers everywhere', async () => {
  const report = await runManagementAuth({
    runs: 400,
    seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined,
  });
  console.log(JSON.stringify(report, null, 2));
  expect(report.violations).toEqual([]);
  expect(Number(report.figures.routes)).toBeGreaterThanOrEqual(13);
  expect(report.figures.runs).toBe(400);
});
