// `npm run stress`: the hostile scenarios of test/hostile at full size, against real
// processes (the built service, redis-server), printing what survived. Bounded to finish in
// under 10 minutes on 2 cores by default. Exit code 1 if any guarantee broke.
//
//   STRESS_ONLY=outage,crash,concurrency,bad-input,auth   run only these
//   STRESS_KILLS=N          SIGKILLs in the crash scenario (default 1000, cut by the budget)
//   STRESS_CRASH_BUDGET_S   time for the kills (default 270 s)
//   STRESS_CRASH_LANES      independent service+writer pairs killed in parallel (default 2)
//   FC_SEED                 fast-check seed, to replay a failure
import { runBadInput } from './bad-input';
import { runConcurrency } from './concurrency';
import { runCrashExport } from './crash-export';
import type { Report } from './http';
import { runManagementAuth } from './management-auth';
import { runOutage } from './outage';

const env = process.env;
const only = env.STRESS_ONLY ? env.STRESS_ONLY.split(',') : null;
const num = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const seed = env.FC_SEED ? Number(env.FC_SEED) : undefined;
const log = (line: string) => process.stderr.write(`  … ${line}\n`);

async function crash(): Promise<Report> {
  const lanes = num('STRESS_CRASH_LANES', 2);
  const kills = num('STRESS_KILLS', 1000);
  const reports = await Promise.all(
    Array.from({ length: lanes }, (_, lane) =>
      runCrashExport({
        kills: Math.ceil(kills / lanes),
        seedUsers: 1000,
        writerPauseMs: 20,
        budgetMs: num('STRESS_CRASH_BUDGET_S', 270) * 1000,
        verifyAll: false,
        log: (l) => log(`lane ${lane + 1}: ${l}`),
      }),
    ),
  );
  const figures: Record<string, number | string> = { lanes };
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.figures)) {
      if (typeof v === 'number' && !['exportMs', 'finalReexportMs', 'elapsedS'].includes(k)) {
        figures[k] = Number(figures[k] ?? 0) + v;
      } else figures[k] = figures[k] === undefined ? String(v) : `${figures[k]}, ${v}`;
    }
  }
  return { scenario: 'crash-export', figures, violations: reports.flatMap((r) => r.violations) };
}

const SCENARIOS: [string, () => Promise<Report>][] = [
  [
    'outage',
    () =>
      runOutage({
        cycles: 6,
        users: 200,
        lanes: 32,
        upMs: 4000,
        outageMs: 3000,
        maxLatencyMs: 2000,
        recoveryTimeoutMs: 10_000,
        log,
      }),
  ],
  ['crash', crash],
  [
    'concurrency',
    () =>
      runConcurrency({
        services: 3,
        registrations: 20_000,
        idPool: 12_000,
        concurrency: 128,
        rotationTargets: 600,
        rotationsPerChain: 6,
        iterations: 1000,
        log,
      }),
  ],
  [
    'bad-input',
    () =>
      runBadInput({
        checkRuns: 20_000,
        apiRuns: 20_000,
        slowHeaderClients: 300,
        slowBodyClients: 50,
        seed,
        log,
      }),
  ],
  ['auth', () => runManagementAuth({ runs: 3000, seed })],
];

async function main(): Promise<void> {
  const started = Date.now();
  let failed = 0;
  for (const [name, run] of SCENARIOS) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    process.stdout.write(`\n=== ${name}\n`);
    let report: Report;
    try {
      report = await run();
    } catch (err) {
      report = { scenario: name, figures: {}, violations: [`crashed: ${(err as Error).stack}`] };
    }
    const ok = report.violations.length === 0;
    if (!ok) failed++;
    process.stdout.write(
      `${ok ? 'SURVIVED' : 'BROKEN'} in ${Math.round((Date.now() - t0) / 1000)} s\n`,
    );
    for (const [k, v] of Object.entries(report.figures)) process.stdout.write(`  ${k}: ${v}\n`);
    for (const v of report.violations) process.stdout.write(`  ✗ ${v}\n`);
  }
  process.stdout.write(
    `\n${failed ? `${failed} scenario(s) BROKEN` : 'every scenario SURVIVED'} in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  process.exit(failed ? 1 : 0);
}

void main();
