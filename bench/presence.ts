// `npm run bench:presence`: what session reporting (issue 27) costs and how fast it is.
//  1. publish rate through a broker with plugin_opt_presence true ÷ the same with false
//     (alternating rounds, same service and devices);
//  2. a connect storm of N devices (default 10 000): from the last CONNACK to the service
//     holding every session;
//  3. 100 000 sessions on 4 brokers (written through the store as the endpoint does): a walk of
//     GET /api/v1/sessions in pages of 1 000, one user's sessions, a device page with `online`.
// Prints a markdown section for bench/results.md (paste it between its `bench:plugin:presence`
// markers, which `npm run bench` keeps). Options: --devices N --rounds N --seconds S.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { readConfig } from '../src/config';
import { createContext } from '../src/context';
import { createLogger } from '../src/logger';
import { percentile, pool, rawRequest, JSON_HEADERS } from '../test/support/http';
import { buildPlugin, pluginConfig } from '../test/support/plugin';
import { cleanPrefix, startMosquitto, startService, testPrefix } from '../test/support/processes';
import { TEST_REDIS_URL } from '../test/support/topology';
import { connect, publishRate, type Device } from './plugin-load';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const N = arg('devices', 10_000);
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 5);
const ADMIN = 'bench-presence-admin-0123456789';
const BROKER_TOKEN = 'bench-presence-broker-credential';

async function main() {
  await buildPlugin();
  const prefix = testPrefix('bench-presence');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-presence-'));
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, BROKER_TOKEN);
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    ADMIN_TOKENS: `bench:${ADMIN}`,
    PASSWD_ITERATIONS: '101',
    AUTH_FAIL_LIMIT: '1000000',
    BROKER_TOKEN_SHA256: createHash('sha256').update(BROKER_TOKEN).digest('hex'),
    LOG_LEVEL: 'error',
  };
  const ctx = createContext(readConfig(env), { logger: createLogger('silent'), adminTokens: [] });
  const service = await startService({ env });
  const api = (method: string, p: string) =>
    rawRequest(service.port, method, `/api/v1${p}`, '', {
      ...JSON_HEADERS,
      Authorization: `Bearer ${ADMIN}`,
    });
  const lines: string[] = [];
  const say = (l: string) => {
    console.log(l);
    lines.push(l);
  };
  try {
    const devices: Device[] = Array.from({ length: N }, (_, i) => ({
      id: `bp-${i}`,
      password: `bench-presence-pw-${i}`,
    }));
    const acl = [{ pattern: '%u/#', access: 'readwrite' as const }];
    const t0 = performance.now();
    await pool(devices, 16, (d) =>
      ctx.devices.as('bench').create({ id: d.id, password: d.password, acl }),
    );
    console.log(`${N} devices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // 1. publish rate, reporting on ÷ off
    const common = { token_file: tokenFile, heartbeat_ms: 1000 };
    const on = await startMosquitto({
      config: pluginConfig(service.url, { ...common, broker_id: 'bench-on' }),
    });
    const off = await startMosquitto({
      config: pluginConfig(service.url, { ...common, presence: 'false' }),
    });
    const pubs = devices.slice(0, 20);
    const rates = { on: [] as number[], off: [] as number[] };
    await publishRate(on.port, pubs, 1, 8); // warm both
    await publishRate(off.port, pubs, 1, 8);
    for (let r = 0; r < ROUNDS; r++) {
      rates.on.push(await publishRate(on.port, pubs, SECONDS, 8));
      rates.off.push(await publishRate(off.port, pubs, SECONDS, 8));
    }
    const med = (v: number[]) => percentile(v, 50);
    say(`| publish rate, 20 clients × 8 in flight, QoS 1, ${ROUNDS} rounds × ${SECONDS} s | on ${med(rates.on).toFixed(0)}/s, off ${med(rates.off).toFixed(0)}/s (medians) | **${(med(rates.on) / med(rates.off)).toFixed(3)}** (goal ≥ 0.95) |`); // prettier-ignore
    await off.stop();

    // 2. connect storm on the reporting broker
    const clients: MqttClient[] = [];
    const stormStart = performance.now();
    await pool(
      devices,
      200,
      async (d) => void clients.push(await connect(on.port, d, `${d.id}-storm`)),
    );
    const lastConnack = performance.now();
    let reportedAt = 0;
    for (;;) {
      const p = JSON.parse((await api('GET', '/presence')).body) as {
        brokers: { broker: string; sessions: number }[];
      };
      if ((p.brokers.find((b) => b.broker === 'bench-on')?.sessions ?? 0) >= N) {
        reportedAt = performance.now();
        break;
      }
      if (performance.now() - lastConnack > 60_000) throw new Error('storm not reported in 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    say(`| connect storm: ${N} devices, 200 at a time | connected in ${((lastConnack - stormStart) / 1000).toFixed(1)} s | all ${N} listed **${((reportedAt - lastConnack) / 1000).toFixed(2)} s** after the last CONNACK (goal ≤ 5 s) |`); // prettier-ignore
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await on.stop();

    // 3. 100 000 sessions on 4 brokers: listing
    const TOTAL = 100_000;
    const now = Date.now();
    for (let b = 0; b < 4; b++) {
      const mine = Array.from({ length: TOTAL / 4 }, (_, i) => ({
        username: `bp-${(i * 4 + b) % N}`,
        clientid: `s-${b}-${i}`,
        address: '127.0.0.1',
        protocol: 5,
        at: now,
      }));
      for (let i = 0, seq = 1; i < mine.length; i += 5000, seq++) {
        const outcome = await ctx.presence.report(
          {
            broker: `list-${b}`,
            boot: 'x',
            seq,
            full: i === 0,
            heartbeatMs: 60_000,
            connected: mine.slice(i, i + 5000),
            disconnected: [],
          },
          Date.now(),
        );
        if (outcome !== 'applied') throw new Error(`report ${outcome}`);
      }
    }
    const pageMs: number[] = [];
    let seen = 0;
    let cursor: string | null = null;
    const walk0 = performance.now();
    do {
      const t = performance.now();
      const a = await api('GET', `/sessions?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      pageMs.push(performance.now() - t);
      const body = JSON.parse(a.body) as { sessions: unknown[]; next: string | null };
      seen += body.sessions.length;
      cursor = body.next;
    } while (cursor);
    const walkS = (performance.now() - walk0) / 1000;
    say(`| 100 000 sessions on 4 brokers: GET /sessions?limit=1000 walked | ${seen} listed in ${pageMs.length} pages, ${walkS.toFixed(1)} s | page p50 **${percentile(pageMs, 50).toFixed(0)} ms**, p99 ${percentile(pageMs, 99).toFixed(0)} ms |`); // prettier-ignore
    const one: number[] = [];
    const list: number[] = [];
    for (let i = 0; i < 50; i++) {
      let t = performance.now();
      await api('GET', `/sessions?username=bp-${i * 7}`);
      one.push(performance.now() - t);
      t = performance.now();
      await api('GET', `/devices?limit=100&prefix=bp-${i % 10}`);
      list.push(performance.now() - t);
    }
    say(`| the same: one device's sessions; a device page of 100 with \`online\` | 50 each | p50 **${percentile(one, 50).toFixed(1)} ms** / p50 **${percentile(list, 50).toFixed(1)} ms** (p99 ${percentile(one, 99).toFixed(1)} / ${percentile(list, 99).toFixed(1)} ms) |`); // prettier-ignore
    console.log(
      `\nload average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await service.stop();
    await ctx.close();
    await cleanPrefix(TEST_REDIS_URL, prefix);
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
