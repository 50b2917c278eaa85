// Failover figures for the bench: the Sentinel and Cluster failover tests (real processes on
// loopback, a steady load of checks and registrations, kill -9 / SENTINEL FAILOVER) print one
// JSON line per scenario; this runs them and tabulates those lines. The assertions stay in
// the tests; here only the figures matter. BENCH_FAILOVER=0 skips it.
import path from 'node:path';
import { ROOT, runCommand } from '../test/support/processes';

export interface FailoverRow {
  scenario: string;
  promotedMs?: number;
  switchedMs?: number;
  checksBackMs: number | null;
  allBackMs?: number;
  writesBackMs: number | null;
  statuses: Record<string, number>;
  stale?: { statuses: Record<string, number> };
}

/** Per jest project: the cluster project's write test starts a cluster of its own. */
const TESTS: [project: string, files: string[]][] = [
  ['standalone', ['test/store/sentinel-failover', 'test/store/cluster-failover']],
  ['cluster', ['test/store/cluster-writes-failover']],
];

export async function measureFailover(): Promise<{ rows: FailoverRow[]; failed: string | null }> {
  const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  let out = '';
  let code = 0;
  for (const [project, files] of TESTS) {
    const r = await runCommand(
      process.execPath,
      [jest, '--selectProjects', project, '--runInBand', '--', ...files],
      { cwd: ROOT, timeoutMs: 600_000, env: { ...process.env, CI: 'true' } },
    );
    out += `${r.stdout}\n${r.stderr}\n`;
    code ||= r.code ?? 1;
  }
  const rows: FailoverRow[] = [];
  for (const m of out.matchAll(/^\s*(\{"scenario":.*\})\s*$/gm)) {
    const o = JSON.parse(m[1] as string) as FailoverRow & { plain?: FailoverRow };
    // The Sentinel kill -9 line nests the default service's figures under `plain`.
    rows.push(o.plain ? { ...o.plain, ...o, scenario: o.scenario } : o);
  }
  const failed = code === 0 ? null : (/●.*$/m.exec(out)?.[0] ?? `jest exited ${code}`);
  return { rows, failed };
}

const ms = (v: number | null | undefined) => (v == null ? '—' : `${(v / 1000).toFixed(2)} s`);
const counts = (s: Record<string, number> | undefined) =>
  s
    ? Object.entries(s)
        .map(([k, v]) => `${v} × ${k}`)
        .join(', ')
    : '—';

export function renderFailover(f: { rows: FailoverRow[]; failed: string | null }): string {
  const lines = [
    '## Failover (loopback; down-after and cluster-node-timeout 1 s)',
    '',
    'From `test/store/sentinel-failover`, `test/store/cluster-failover` and ' +
      '`test/store/cluster-writes-failover` (its "all devices back": every kind of write in ' +
      'all 64 buckets done), run by the bench. ' +
      'Times from the fault. "Checks back": the first allowed check after the first refused ' +
      'one. "Answered meanwhile": check answers between the fault and then (never a 200 for ' +
      'the deleted device — the tests assert it).',
    '',
    '| scenario | promoted | checks back | all devices back | writes back | answered meanwhile | with CACHE_SERVE_STALE_MS=30000 |',
    '|---|--:|--:|--:|--:|---|---|',
    ...f.rows.map(
      (r) =>
        `| ${r.scenario} | ${ms(r.promotedMs ?? r.switchedMs)} | ${ms(r.checksBackMs)} | ` +
        `${ms(r.allBackMs)} | ${ms(r.writesBackMs)} | ${counts(r.statuses)} | ${counts(r.stale?.statuses)} |`,
    ),
  ];
  if (f.failed) lines.push('', `**The failover tests failed:** ${f.failed}`);
  return lines.join('\n');
}
