// `npm run bench:plugin`: Mosquitto 2.0.11 with the mqtt-authd plugin beside the same broker
// reading the passwd + acl_file the service exports for the same devices, in one run:
// QoS 1 publishes from 8 clients, connects of known devices, and revocation latency (API
// answer → client disconnected) over 100 trials. Rounds alternate between the two brokers and
// the median is kept (the machine is shared). Writes its section of bench/results.md (between
// the plugin markers; `npm run bench` keeps it).
//
//   BENCH_PLUGIN_SECONDS (5), BENCH_PLUGIN_ROUNDS (3), BENCH_PLUGIN_TRIALS (100),
//   BENCH_PLUGIN_DEVICES (200), BENCH_RESULTS (another file), REDIS_URL
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pool, percentile, rawRequest, JSON_HEADERS } from '../test/support/http';
import { buildPlugin, pluginConfig } from '../test/support/plugin';
import {
  cleanPrefix,
  ROOT,
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
} from '../test/support/processes';
import { connectEach, connectRate, publishRate, revocationMs, type Device } from './plugin-load';
import { pluginSection, withPluginSection } from './plugin-section';

const env = process.env;
const int = (name: string, fallback: number) => {
  const n = Number(env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${env[name]}: an integer ≥ 1`);
  return n;
};
const SECONDS = int('BENCH_PLUGIN_SECONDS', 5);
const ROUNDS = int('BENCH_PLUGIN_ROUNDS', 3);
const TRIALS = int('BENCH_PLUGIN_TRIALS', 100);
const DEVICES = int('BENCH_PLUGIN_DEVICES', 200);
const CLIENTS = 8;
const WINDOW = 16;
const REDIS_URL = env.REDIS_URL || 'redis://127.0.0.1:6379';
const RESULTS = env.BENCH_RESULTS ?? path.join(ROOT, 'bench', 'results.md');
const TOKEN = 'bench-plugin-token-0123456789';

/** CPU seconds (user + system) a process has used so far: /proc/<pid>/stat, 100 ticks/s. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  await buildPlugin();
  const prefix = testPrefix('bench-plugin');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'authd-bench-plugin-'));
  await chmod(dir, 0o755);
  const brokers: MosquittoProcess[] = [];
  const service = await startService({
    env: {
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKENS: `bench:${TOKEN}`,
      PASSWD_FILE: path.join(dir, 'passwd'),
      ACL_FILE: path.join(dir, 'acl'),
      MOSQUITTO_RELOAD: 'none',
      AUTH_FAIL_LIMIT: '1000000',
    },
  });
  const api = (method: string, p: string, body?: unknown) =>
    rawRequest(
      service.port,
      method,
      `/api/v1${p}`,
      body === undefined ? '' : JSON.stringify(body),
      {
        ...JSON_HEADERS,
        Authorization: `Bearer ${TOKEN}`,
      },
    );
  try {
    const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => ({
      id: `bp-${i}`,
      password: `bench-plugin-pw-${i}-4f9d`,
    }));
    const acl = [{ pattern: '%u/#', access: 'readwrite' }];
    await pool(devices, 8, async (d) => {
      const r = await api('POST', '/devices', { id: d.id, password: d.password, acl });
      if (r.status !== 201) throw new Error(`create ${d.id}: ${r.status} ${r.body}`);
    });
    const exported = await api('POST', '/export');
    if (exported.status !== 200) throw new Error(`export: ${exported.status} ${exported.body}`);

    const plugin = await startMosquitto({ config: pluginConfig(service.url) });
    brokers.push(plugin);
    await plugin.waitForLog(/mqtt-authd: event stream up/, 10_000);
    const files = await startMosquitto({
      config: [`password_file ${path.join(dir, 'passwd')}`, `acl_file ${path.join(dir, 'acl')}`, 'allow_anonymous false'].join('\n'), // prettier-ignore
    });
    brokers.push(files);
    const targets = { plugin, files } as const;

    // warm-up: every device logs in once on each broker (the plugin's cache learns them)
    for (const b of [plugin, files]) await connectEach(b.port, devices, CLIENTS);
    const pub: Record<keyof typeof targets, number[]> = { plugin: [], files: [] };
    const con: Record<keyof typeof targets, number[]> = { plugin: [], files: [] };
    const cpuPerPub: Record<keyof typeof targets, number[]> = { plugin: [], files: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order: ('plugin' | 'files')[] = r % 2 ? ['files', 'plugin'] : ['plugin', 'files'];
      for (const name of order) {
        const port = targets[name].port;
        const cpu0 = await cpuSeconds(targets[name].pid);
        const rate = await publishRate(port, devices.slice(0, CLIENTS), SECONDS, WINDOW);
        pub[name].push(rate);
        // the broker's own CPU per publish: what the plugin costs, whatever else runs
        cpuPerPub[name].push((((await cpuSeconds(targets[name].pid)) - cpu0) * 1e6) / (rate * SECONDS)); // prettier-ignore
        con[name].push(await connectRate(port, devices, SECONDS, CLIENTS));
        console.log(`round ${r + 1} ${name}: ${fmt(pub[name].at(-1) ?? 0)} publishes/s (${(cpuPerPub[name].at(-1) ?? 0).toFixed(1)} µs broker CPU each), ${fmt(con[name].at(-1) ?? 0)} connects/s`); // prettier-ignore
      }
    }

    const kinds = [
      ['DELETE', (id: string) => api('DELETE', `/devices/${id}`)],
      ['disable', (id: string) => api('PATCH', `/devices/${id}`, { disabled: true })],
      ['rotation', (id: string) => api('POST', `/devices/${id}/password`, {})],
    ] as const;
    const latencies: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const d = { id: `rv-${i}`, password: `bench-plugin-rv-${i}-4f9d` };
      const made = await api('POST', '/devices', { id: d.id, password: d.password, acl });
      if (made.status !== 201) throw new Error(`create ${d.id}: ${made.status}`);
      const [, revoke] = kinds[i % kinds.length] as (typeof kinds)[number];
      latencies.push(await revocationMs(plugin.port, d, () => revoke(d.id)));
    }
    const row = (label: string, xs: Record<'plugin' | 'files', number[]>) =>
      `| ${label} | ${fmt(median(xs.plugin))} | ${fmt(median(xs.files))} | ${(median(xs.plugin) / median(xs.files)).toFixed(2)} |`; // prettier-ignore
    const ms = (p: number) => percentile(latencies, p).toFixed(1);
    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    const section = pluginSection(
      [
        '## Mosquitto plugin beside passwd + acl_file',
        '',
        `Measured by \`npm run bench:plugin\` on ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, Mosquitto 2.0.11 (Debian 12). One run: the same broker twice, one loading \`mqtt-authd.so\` (in front of the service), one reading the passwd + acl_file the service exported for the same ${DEVICES} devices (\`$7$\`, 1,000 iterations). The load generator (mqtt.js, one Node process) shares the machine; ${ROUNDS} alternating rounds of ${SECONDS} s, median.`, // prettier-ignore
        '',
        '| workload | plugin | passwd + acl_file | plugin ÷ files |',
        '|---|--:|--:|--:|',
        row(`publishes/s (QoS 1, ${CLIENTS} clients, ${WINDOW} in flight each)`, pub),
        row(`connects/s (known devices, ${CLIENTS} lanes, connect + disconnect)`, con),
        `| broker CPU µs per publish (lower is better) | ${median(cpuPerPub.plugin).toFixed(1)} | ${median(cpuPerPub.files).toFixed(1)} | ${(median(cpuPerPub.plugin) / median(cpuPerPub.files)).toFixed(2)} |`, // prettier-ignore
        '',
        `Revocation: API answer → the device's client disconnected by the broker (DELETE, disable and password rotation in turn, ${TRIALS} trials): p50 ${ms(50)} ms, p99 ${ms(99)} ms, max ${ms(100)} ms.`, // prettier-ignore
      ].join('\n'),
    );
    console.log(`\n${section}\n`);
    const before = existsSync(RESULTS) ? await readFile(RESULTS, 'utf8') : '';
    await writeFile(RESULTS, withPluginSection(before, section));
    console.log(`(written to ${path.relative(process.cwd(), RESULTS)})`);
  } finally {
    for (const b of brokers) await b.stop();
    await service.stop();
    await cleanPrefix(REDIS_URL, prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
