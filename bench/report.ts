// bench/results.md, written by every run (the README's performance summary links to it).
import { disturbed, NOISE_CORES, type RunResult } from './load';
import { WORKLOAD_LABELS, type WorkloadId } from './workloads';

interface HashBound {
  iterations: number;
  /** CPU time of one verification, ms. */
  hashMs: number;
  cores: number;
  perSecond: number;
}

export interface CheckRow {
  workload: WorkloadId;
  devices: number;
  authd: RunResult;
  ceiling: RunResult;
  /** A count when the run was a fixed number of requests rather than a duration. */
  amount?: number;
}

export interface PacedRow {
  workload: WorkloadId;
  devices: number;
  authd: RunResult;
  ceiling: RunResult;
}

export interface SizeRow {
  devices: number;
  loadMs: number;
  bytesPerDevice: number;
  encoding: string;
  exported: { ms: number; users: number; maxRssKiB: number; bytes: number };
}

export interface Report {
  date: string;
  machine: { cpu: string; cores: number; memGiB: number; os: string; node: string; redis: string };
  seconds: number;
  connections: number;
  warmSet: number;
  hash: HashBound;
  checks: CheckRow[];
  paced: PacedRow[];
  sizes: SizeRow[];
  /** Runs that got answers they should not have (5xx, errors): they make a figure suspect. */
  warnings: string[];
}

const mark = (r: RunResult) => (disturbed(r) ? ' †' : '');
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);
const us = (n: number | null | undefined) => (n == null ? '?' : n.toFixed(0));
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function checkLine(r: CheckRow, hash: HashBound): string {
  const cold = r.workload === 'user-cold';
  const label = r.amount
    ? `${WORKLOAD_LABELS[r.workload]}, ${int(r.amount)} logins`
    : WORKLOAD_LABELS[r.workload];
  const ref = cold ? `bound ${int(hash.perSecond)}` : int(r.ceiling.rps);
  const ratio = r.authd.rps / (cold ? hash.perSecond : r.ceiling.rps);
  const cpu = `${us(r.authd.serverUsPerRequest)} / ${cold ? `${us(hash.hashMs * 1000)} hash` : us(r.ceiling.serverUsPerRequest)}`;
  return `| ${label}${mark(r.authd)} | ${int(r.devices)} | ${int(r.authd.rps)} | ${ms(r.authd.p50)} | ${ms(r.authd.p99)} | ${ref}${cold ? '' : mark(r.ceiling)} | ${ratio.toFixed(2)}${cold ? ' of bound' : ''} | ${cpu} |`;
}

export function renderReport(rep: Report): string {
  const m = rep.machine;
  const h = rep.hash;
  const lines = [
    '## Performance',
    '',
    `Measured by \`npm run bench\` on ${rep.date}: ${m.cpu}, ${m.cores} cores, ${m.memGiB.toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}, Redis ${m.redis} on the same host.`,
    `${rep.connections} keep-alive connections, ${rep.seconds} s per run; the load generator (autocannon) shares the machine. ` +
      'Ceiling: a bare `node:http` server that reads the body and answers 200, loaded with the same requests. ' +
      "Server CPU per request is the server process's own CPU time (utime + stime) over the answers: it does not depend on what else the machine does.",
    '',
    '| check | devices | req/s | p50 ms | p99 ms | ceiling req/s | × ceiling | server CPU µs/req (vs ceiling) |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rep.checks.map((r) => checkLine(r, h)),
    '',
    `Cold logins are bounded by PBKDF2-SHA512 × ${int(h.iterations)} iterations (PASSWD_ITERATIONS): ` +
      `${ms(h.hashMs)} ms of CPU each in-process, so at most ${h.cores} cores ÷ ${ms(h.hashMs)} ms = ${int(h.perSecond)}/s.`,
    'Devices are drawn uniformly from all of them (warm logins: from the first ' +
      `${int(rep.warmSet)}): with few devices every lookup after the first hits the in-process ` +
      'cache; with more than it holds (CACHE_MAX_USERS, 200 000 by default, for CACHE_TTL_MS, 60 s) most go to Redis.',
    '',
    'Latency at half of the measured peak (constant rate, paced per request, open loop; the ceiling at the same rate with the same requests):',
    '',
    '| check | devices | rate req/s | p50 ms | p99 ms | ceiling p50 ms | ceiling p99 ms |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...rep.paced.map(
      (r) =>
        `| ${WORKLOAD_LABELS[r.workload]}${mark(r.authd)} | ${int(r.devices)} | ${int(r.authd.rps)} | ${ms(r.authd.p50)} | ${ms(r.authd.p99)} | ${ms(r.ceiling.p50)} | ${ms(r.ceiling.p99)}${mark(r.ceiling)} |`,
    ),
    '',
    'Scale (bulk load into the store layout; `mqtt-authd export` of passwd + acl_file):',
    '',
    '| devices | bulk load s | Redis memory / device | export s | export peak RSS | passwd + acl_file |',
    '|--:|--:|--:|--:|--:|--:|',
    ...rep.sizes.map(
      (s) =>
        `| ${int(s.devices)} | ${(s.loadMs / 1000).toFixed(1)} | ${int(s.bytesPerDevice)} B (${s.encoding}) | ${(s.exported.ms / 1000).toFixed(1)} | ${mib(s.exported.maxRssKiB * 1024)} | ${mib(s.exported.bytes)} |`,
    ),
  ];
  if (rep.warnings.length) {
    lines.push(
      '',
      `**Warnings** (figures from these runs are suspect; † = other processes used more than ${NOISE_CORES} cores during the run):`,
      '',
    );
    for (const w of rep.warnings) lines.push(`- ${w}`);
  }
  return `${lines.join('\n')}\n`;
}
