// One run of the plugin bench (bench/plugin.ts is its command line, test/bench/ its smoke
// test): every chosen workload on the plugin broker and the files broker, the same binary,
// rounds alternating which goes first (the machine is shared), medians kept.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { BenchOptions, Workload } from './plugin-args';
import {
  connectEach,
  publishRate,
  revocationMs,
  ONE_TOPIC,
  TOPIC_PER_MESSAGE,
  type Device,
} from './plugin-load';
import { baseRss, measureRss, type RssRow } from './plugin-rss';
import type { MosquittoProcess } from '../test/support/processes';
import { BACKEND, DEVICE_ACL, startBenchStack, type BenchStack, type BrokerKind } from './plugin-stack'; // prettier-ignore
import { fanoutRate, stormRate } from './plugin-storm';

export const CLIENTS = 8;
export const WINDOW = 16;
const STORM_IN_FLIGHT = 100;

export type Pair = Record<BrokerKind, number[]>;
export interface BenchResults {
  /** 1-minute load average when each workload began (the machine is shared). */
  load: Partial<Record<Workload, number>>;
  /** Workloads that threw: the first line of the error. */
  failed: Partial<Record<Workload, string>>;
  a?: { rate: Pair; cpuUs: Pair };
  b?: { rate: Pair; cpuUs: Pair };
  c?: { received: Pair; published: Pair };
  /** `preloaded`: the plugin broker with plugin_opt_preload true (empty: not supported). */
  d?: { rate: Pair; preloaded: number[]; cpuUs: Pair & { preloaded: number[] } };
  e?: Record<string, number[]>;
  f?: RssRow[];
}

/** CPU seconds (user + system) a process has used so far: /proc/<pid>/stat, 100 ticks/s. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const pair = (): Pair => ({ plugin: [], files: [] });
const orderOf = (r: number): BrokerKind[] => (r % 2 ? ['files', 'plugin'] : ['plugin', 'files']);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function publishes(s: BenchStack, o: BenchOptions, topicOf: typeof ONE_TOPIC, tag: string) {
  const rate = pair();
  const cpuUs = pair();
  for (let r = 0; r < o.rounds; r++)
    for (const kind of orderOf(r)) {
      const b = await s.shared(kind);
      const cpu0 = await cpuSeconds(b.pid);
      const pubs = await publishRate(b.port, s.devices.slice(0, CLIENTS), o.seconds, WINDOW, topicOf); // prettier-ignore
      const used = (await cpuSeconds(b.pid)) - cpu0;
      rate[kind].push(pubs);
      // the broker's own CPU per publish: what the plugin costs, whatever else runs
      cpuUs[kind].push((used * 1e6) / (pubs * o.seconds));
      console.log(`(${tag}) round ${r + 1} ${kind}: ${fmt(pubs)} publishes/s, ${(cpuUs[kind].at(-1) ?? 0).toFixed(1)} µs broker CPU each`); // prettier-ignore
    }
  return { rate, cpuUs };
}

async function fanout(s: BenchStack, o: BenchOptions) {
  const received = pair();
  const published = pair();
  for (let r = 0; r < o.rounds; r++)
    for (const kind of orderOf(r)) {
      const b = await s.shared(kind);
      const f = await fanoutRate(b.port, BACKEND, s.devices.slice(0, CLIENTS), o.seconds, WINDOW); // prettier-ignore
      received[kind].push(f.received);
      published[kind].push(f.published);
      console.log(`(c) round ${r + 1} ${kind}: bench/# received ${fmt(f.received)}/s (${fmt(f.published)} publishes/s)`); // prettier-ignore
    }
  return { received, published };
}

async function storm(s: BenchStack, o: BenchOptions) {
  const rate = pair();
  const preloaded: number[] = [];
  const devices = s.devices.slice(0, o.storm);
  const cpuUs = { ...pair(), preloaded: [] as number[] };
  const once = async (
    label: string,
    start: () => Promise<MosquittoProcess>,
    into: number[],
    cpu: number[],
  ) => {
    const b = await start(); // fresh: nothing learned (or, preloaded, everything)
    try {
      const cpu0 = await cpuSeconds(b.pid);
      into.push(await stormRate(b.port, devices, STORM_IN_FLIGHT));
      // the broker's own CPU per CONNECT: PBKDF2 in the broker, or waiting on the service
      cpu.push((((await cpuSeconds(b.pid)) - cpu0) * 1e6) / devices.length);
    } finally {
      await b.stop();
    }
    console.log(`(d) ${label}: ${devices.length} devices back at ${fmt(into.at(-1) ?? 0)}/s, ${fmt(cpu.at(-1) ?? 0)} µs broker CPU each`); // prettier-ignore
  };
  for (let r = 0; r < o.rounds; r++) {
    for (const kind of orderOf(r)) await once(`round ${r + 1} ${kind}`, () => s.start(kind), rate[kind], cpuUs[kind]); // prettier-ignore
    // the same storm on a broker that streamed every record before it listened to anyone
    const withPreload = async () => {
      const b = await s.start('plugin', { preload: 'true' });
      await b.waitForLog(/mqtt-authd: preloaded \d+ records/, 120_000);
      return b;
    };
    try {
      await once(`round ${r + 1} plugin, preload`, withPreload, preloaded, cpuUs.preloaded);
    } catch (err) {
      if (!/is not an option of this plugin/.test(String(err))) throw err;
    }
  }
  return { rate, preloaded, cpuUs };
}

async function revocation(s: BenchStack, o: BenchOptions) {
  const kinds = [
    ['DELETE', (id: string) => s.api('DELETE', `/devices/${id}`)],
    ['disable', (id: string) => s.api('PATCH', `/devices/${id}`, { disabled: true })],
    ['rotation', (id: string) => s.api('POST', `/devices/${id}/password`, {})],
  ] as const;
  const out: Record<string, number[]> = { DELETE: [], disable: [], rotation: [] };
  const b = await s.shared('plugin');
  for (let i = 0; i < o.trials; i++) {
    const d: Device = { id: `rv-${i}`, password: `bench-plugin-rv-${i}-4f9d` };
    const made = await s.api('POST', '/devices', { ...d, acl: DEVICE_ACL });
    if (made.status !== 201) throw new Error(`create ${d.id}: ${made.status} ${made.body}`);
    const [name, revoke] = kinds[i % kinds.length] as (typeof kinds)[number];
    out[name]?.push(await revocationMs(b.port, d, () => revoke(d.id)));
  }
  console.log(`(e) ${o.trials} revocations done`);
  return out;
}

async function rss(s: BenchStack, o: BenchOptions) {
  const base = await baseRss(s.service.url, s.credential, o.broker);
  const rows: RssRow[] = [];
  for (const n of o.rssSizes) {
    const row = await measureRss(o.redisUrl, o.broker, n, base);
    rows.push(row);
    console.log(`(f) ${fmt(n)} devices: plugin ${row.plugin === null ? 'preload not supported by this plugin' : `${fmt(row.plugin)} KiB`}, files ${row.files === null ? 'not listening' : `${fmt(row.files)} KiB`}`); // prettier-ignore
    if (row.plugin === null) break; // the larger size would say the same
  }
  return rows;
}

export async function runPluginBench(o: BenchOptions): Promise<BenchResults> {
  const needs = o.only.filter((w) => w !== 'f').length > 0;
  const s = await startBenchStack({
    redisUrl: o.redisUrl,
    broker: o.broker,
    devices: needs ? Math.max(CLIENTS, o.devices, o.only.includes('d') ? o.storm : 0) : CLIENTS,
  });
  const res: BenchResults = { load: {}, failed: {} };
  try {
    if (o.only.some((w) => w === 'a' || w === 'b' || w === 'c'))
      for (const kind of ['plugin', 'files'] as const)
        await connectEach((await s.shared(kind)).port, [...s.devices.slice(0, CLIENTS), BACKEND], CLIENTS); // prettier-ignore
    const mark = (w: Workload) => (res.load[w] = os.loadavg()[0]);
    for (const w of o.only) {
      mark(w);
      try {
        if (w === 'a') res.a = await publishes(s, o, ONE_TOPIC, 'a');
        if (w === 'b') res.b = await publishes(s, o, TOPIC_PER_MESSAGE, 'b');
        if (w === 'c') res.c = await fanout(s, o);
        if (w === 'd') res.d = await storm(s, o);
        if (w === 'e') res.e = await revocation(s, o);
        if (w === 'f') res.f = await rss(s, o);
      } catch (err) {
        // one workload failing must not lose the others' figures: it is reported instead
        console.error(`(${w}) failed:`, err);
        res.failed[w] = String(err instanceof Error ? err.message : err).split('\n')[0] ?? '';
      }
    }
  } finally {
    await s.stop();
  }
  return res;
}
