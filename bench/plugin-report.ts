// The plugin bench's results as a markdown section (bench/results.md, one per --label).
import { percentile } from '../test/support/http';
import type { BenchOptions } from './plugin-args';
import { CLIENTS, WINDOW, type BenchResults, type Pair } from './plugin-run';
import { FILES_READY_MS, type RssRow } from './plugin-rss';

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  broker: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const spread = (xs: number[]) =>
  xs.length > 1 ? ` (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '';
const load = (r: BenchResults, w: keyof BenchResults['load']) => (r.load[w] ?? NaN).toFixed(2);

function row(label: string, p: Pair, ld: string, digits = 0): string {
  const [a, b] = [median(p.plugin), median(p.files)];
  const show = (xs: number[], m: number) => (digits ? m.toFixed(digits) : `${fmt(m)}${spread(xs)}`);
  return `| ${label} | ${show(p.plugin, a)} | ${show(p.files, b)} | ${(a / b).toFixed(2)} | ${ld} |`;
}

function rssLines(rows: RssRow[]): string[] {
  const out = [
    '',
    'Memory with the whole fleet held (one-rule devices `devices/%u/#`, one `$7$` hash; the plugin read once it logged the preload done and its RSS stopped growing, minus the same broker holding nothing):',
    '',
    '| devices | plugin RSS (preload) | B/device | passwd + acl_file RSS | B/device |',
    '|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const per = (kib: number, base: number) => fmt(((kib - base) * 1024) / r.devices);
    const plugin =
      r.plugin === null
        ? 'preload not supported by this plugin | —'
        : `${fmt(r.plugin)} KiB (${(r.preloadSeconds ?? 0).toFixed(1)} s) | ${per(r.plugin, r.pluginBase)}`;
    const files =
      r.files === null
        ? `not listening after ${FILES_READY_MS / 1000} s (still reading the files) | —`
        : `${fmt(r.files)} KiB | ${per(r.files, r.filesBase)}`;
    out.push(`| ${fmt(r.devices)} | ${plugin} | ${files} |`);
  }
  const [lo, hi] = [rows[0], rows[rows.length - 1]];
  if (lo && hi && hi !== lo && lo.plugin !== null && hi.plugin !== null)
    out.push('', `Slope ${fmt(lo.devices)} → ${fmt(hi.devices)}: plugin ${fmt(((hi.plugin - lo.plugin) * 1024) / (hi.devices - lo.devices))} B/device${lo.files !== null && hi.files !== null ? `, files ${fmt(((hi.files - lo.files) * 1024) / (hi.devices - lo.devices))} B/device` : ''}.`); // prettier-ignore
  return out;
}

export function renderPluginBench(
  o: BenchOptions,
  r: BenchResults,
  m: Machine,
  date: string,
  command: string,
): string {
  const lines = [
    `## Mosquitto plugin beside passwd + acl_file: ${o.label}`,
    '',
    `Measured by \`${command}\` on ${date}: ${m.cpu}, ${m.cores} cores, ${m.memGiB.toFixed(1)} GiB, Linux ${m.kernel}, Node ${m.node}, ${m.broker} (\`${o.broker}\`). The same binary twice, one loading \`mqtt-authd.so\` in front of the service, one reading the passwd + acl_file the service exported for the same devices (\`$7$\`, 1,000 iterations); QoS 1, ${CLIENTS} publishers with ${WINDOW} in flight each, mqtt.js in one Node process on the same machine; ${o.rounds} round${o.rounds === 1 ? '' : 's'} of ${o.seconds} s alternating which broker goes first, median (range). The load column is the 1-minute load average as each workload began (2 cores): above about 2, other work shared the machine and the figures are noisy.`, // prettier-ignore
  ];
  if (r.a || r.b || r.c || r.d)
    lines.push('', '| workload | plugin | passwd + acl_file | plugin ÷ files | load |', '|---|--:|--:|--:|--:|'); // prettier-ignore
  if (r.a) lines.push(row('(a) publishes/s, one topic per client', r.a.rate, load(r, 'a')));
  if (r.a) lines.push(row('(a) broker CPU µs per publish (lower is better)', r.a.cpuUs, load(r, 'a'), 1)); // prettier-ignore
  if (r.b) lines.push(row('(b) publishes/s, a topic per message', r.b.rate, load(r, 'b')));
  if (r.b) lines.push(row('(b) broker CPU µs per publish (lower is better)', r.b.cpuUs, load(r, 'b'), 1)); // prettier-ignore
  if (r.c) lines.push(row('(c) messages/s received by one `bench/#` subscriber (a topic per message)', r.c.received, load(r, 'c'))); // prettier-ignore
  if (r.d) lines.push(row(`(d) devices/s a fresh broker takes back (${fmt(o.storm)} known devices, ≤ 100 CONNECTs in flight, all stay connected)`, r.d.rate, load(r, 'd'))); // prettier-ignore
  if (r.d?.preloaded.length) lines.push(row('(d) the same, the plugin broker with `plugin_opt_preload true` (timed once its preload was done)', { plugin: r.d.preloaded, files: r.d.rate.files }, load(r, 'd'))); // prettier-ignore
  if (r.d) lines.push(row('(d) broker CPU µs per CONNECT in the storm (lower is better)', r.d.cpuUs, load(r, 'd'), 0)); // prettier-ignore
  if (r.d?.cpuUs.preloaded.length) lines.push(row('(d) the same, with preload', { plugin: r.d.cpuUs.preloaded, files: r.d.cpuUs.files }, load(r, 'd'), 0)); // prettier-ignore
  if (r.e) {
    const all = Object.values(r.e).flat();
    const ms = (xs: number[], p: number) => (xs.length ? percentile(xs, p).toFixed(1) : '—');
    lines.push('', `(e) Revocation on the plugin broker: API answer → the device's client sees the broker close it (load ${load(r, 'e')}). The files broker has no figure: it learns a change at the next export + SIGHUP.`, '', '| change | trials | p50 ms | p99 ms | max ms |', '|---|--:|--:|--:|--:|'); // prettier-ignore
    for (const [kind, xs] of [...Object.entries(r.e), ['all', all] as const])
      lines.push(`| ${kind} | ${xs.length} | ${ms(xs, 50)} | ${ms(xs, 99)} | ${ms(xs, 100)} |`);
  }
  if (r.f) lines.push(...rssLines(r.f), '', `(f) load ${load(r, 'f')}.`);
  for (const [w, why] of Object.entries(r.failed)) lines.push('', `**(${w}) failed**: ${why}`);
  return lines.join('\n');
}
