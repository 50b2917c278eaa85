// `node dist/bench/plugin-kick.js` (after `npm run build && npm run build:tools`): how long a
// kick takes on the broker MOSQUITTO_BIN names (Debian's 2.0.11 by default; a 2.1 build to
// see its wake mechanism), and what the broker costs while idle. Prints one line.
//
//   MOSQUITTO_BIN, MQTT_AUTHD_WAKE (none | signal | tick:<ms>; unset: the plugin's default),
//   BENCH_KICK_TRIALS (60), BENCH_KICK_IDLE_S (20), REDIS_URL
import { percentile, sleep } from '../test/support/http';
import { startPluginStack } from '../test/support/plugin';
import { cpuSeconds, envInt } from './plugin-env';
import { revocationMs } from './plugin-load';

const env = process.env;
const TRIALS = envInt('BENCH_KICK_TRIALS', 60);
const IDLE_S = envInt('BENCH_KICK_IDLE_S', 20);

async function main() {
  const s = await startPluginStack({ name: 'bench-kick' });
  try {
    const wake = /wake ([^,\n]*)/.exec(s.broker.logs())?.[1] ?? '?';
    const version = /mosquitto version (\S+)/.exec(s.broker.logs())?.[1] ?? '?';
    const kinds = [
      ['DELETE', (id: string) => s.api('DELETE', `/devices/${id}`)],
      ['disable', (id: string) => s.api('PATCH', `/devices/${id}`, { disabled: true })],
      ['rotation', (id: string) => s.api('POST', `/devices/${id}/password`, {})],
    ] as const;
    const acl = [{ pattern: '%u/#', access: 'readwrite' }];
    const latencies: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const d = { id: `kick-${i}`, password: `bench-kick-${i}-4f9d1c` };
      const made = await s.api('POST', '/devices', { id: d.id, password: d.password, acl });
      if (made.status !== 201) throw new Error(`create ${d.id}: ${made.status}`);
      const [, revoke] = kinds[i % kinds.length] as (typeof kinds)[number];
      latencies.push(await revocationMs(s.broker.port, d, () => revoke(d.id)));
      await sleep(50 + Math.random() * 250); // arrive at any point of the broker's sleep
    }
    // idle: no client, the stream's heartbeats only
    await sleep(1000);
    const cpu0 = await cpuSeconds(s.broker.pid);
    await sleep(IDLE_S * 1000);
    const idle = (((await cpuSeconds(s.broker.pid)) - cpu0) / IDLE_S) * 100;
    const ms = (p: number) => percentile(latencies, p).toFixed(0);
    console.log(
      `mosquitto ${version} (${env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto'}), wake ${wake}: kick p50 ${ms(50)} ms, p99 ${ms(99)} ms, max ${ms(100)} ms (${TRIALS} trials); idle broker CPU ${idle.toFixed(2)} % over ${IDLE_S} s`, // prettier-ignore
    );
  } finally {
    await s.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
