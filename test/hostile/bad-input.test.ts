// Scenario 4 at CI size (stress/bad-input.ts; `npm run stress` runs it at full size):
// property-based bad input on every endpoint of the service as a real process, hand-made
// hostile bodies, and slow clients (slowloris) held open meanwhile.
import { runBadInput } from '../../stress/bad-input';

jest.setTimeout(120_000);

it('bad input anywhere: a 4xx or a deny, never a 5xx or a crash, never a wrong allow, never a corrupt export; slow clients cut off', async () => {
  const report = await runBadInput({
    checkRuns: 1500,
    apiRuns: 1500,
    slowHeaderClients: 20,
    slowBodyClients: 0,
    seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined,
  });
  console.log(JSON.stringify(report, null, 2));
  expect(report.violations).toEqual([]);
  const f = report.figures;
  expect(f.checkRuns).toBe(1500);
  expect(f.apiRuns).toBe(1500);
  expect(Number(f.devicesExported)).toBeGreaterThan(2);
  // headersTimeout is 10 s (src/server.ts), checked every second.
  expect(Number(f.slowCutMaxS)).toBeLessThan(13);
  expect(Number(f.slowCutMinS)).toBeGreaterThanOrEqual(9);
  expect(Number(f.checkMsWithSlowClients)).toBeLessThan(500);
});
