// Scenario 2 at CI size (stress/crash-export.ts; `npm run stress` runs it at full size): the
// exporting service is SIGKILLed during exports while devices are registered.
import { runCrashExport } from '../../stress/crash-export';

jest.setTimeout(120_000);

it('SIGKILL during exports never leaves a torn or mixed passwd/acl file, and the next start re-exports', async () => {
  const report = await runCrashExport({
    kills: 15,
    seedUsers: 3000,
    budgetMs: 60_000,
    verifyAll: true,
  });
  console.log(JSON.stringify(report, null, 2));
  expect(report.violations).toEqual([]);
  const f = report.figures;
  expect(f.kills).toBeGreaterThanOrEqual(15);
  // Some kills must have landed inside an export, or the test proved nothing.
  expect(f.killsLeavingLock).toBeGreaterThanOrEqual(3);
  expect(f.registeredDuringKills).toBeGreaterThan(0);
  // A dead holder's lock is stale after 10 s; the next start's export follows it.
  expect(f.finalReexportMs).toBeLessThan(20_000);
});
