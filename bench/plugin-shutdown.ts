// `node dist/bench/plugin-shutdown.js` (after `npm run build && npm run build:tools`): how long
// the broker takes to exit on SIGTERM while CONNECTs wait for a hung service (SIGSTOPped; the
// checks' TCP connections are accepted by the kernel and never answered). The worst case: N
// clients are accepted first and send their CONNECTs at once, so one loop iteration of the
// broker holds N checks in a row. Prints one line.
//
//   MOSQUITTO_BIN, BENCH_SHUTDOWN_CLIENTS (10), BENCH_SHUTDOWN_TIMEOUT_MS (2000: the plugin's
//   request_timeout_ms), REDIS_URL
import net from 'node:net';
import { sleep } from '../test/support/http';
import { connectPacket } from '../test/support/mosquitto21';
import { startPluginStack } from '../test/support/plugin';
import { envInt } from './plugin-env';

const CLIENTS = envInt('BENCH_SHUTDOWN_CLIENTS', 10);
const TIMEOUT_MS = envInt('BENCH_SHUTDOWN_TIMEOUT_MS', 2000);

async function main() {
  const s = await startPluginStack({
    name: 'bench-shutdown',
    pluginOpts: { request_timeout_ms: TIMEOUT_MS },
  });
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const sock = net.connect(s.broker.port, '127.0.0.1');
      sock.on('error', () => undefined);
      sockets.push(sock);
    }
    let seen = 0;
    for (let i = 0; i < CLIENTS; i++) seen = await s.broker.waitForLog(/New connection from/, 5000, seen); // prettier-ignore
    s.service.pause();
    // unknown users: every CONNECT is a check the hung service never answers
    sockets.forEach((sock, i) => sock.write(connectPacket(`sd-${i}-c`, `sd-${i}`, 'pw-sd-0123456789'))); // prettier-ignore
    await sleep(300); // the CONNECTs are read and the first check is in flight
    const t0 = performance.now();
    process.kill(s.broker.pid, 'SIGTERM'); // not broker.stop(): it SIGKILLs after 3 s
    const alive = setTimeout(() => process.kill(s.broker.pid, 'SIGKILL'), 120_000); // the child is unref'd: this keeps node waiting
    const exit = await s.broker.exited;
    clearTimeout(alive);
    const ms = performance.now() - t0;
    console.log(
      `SIGTERM → exit with ${CLIENTS} CONNECTs waiting on a hung service (request_timeout_ms ${TIMEOUT_MS}): ${ms.toFixed(0)} ms, exit ${exit.code ?? exit.signal}`, // prettier-ignore
    );
  } finally {
    for (const sock of sockets) sock.destroy();
    s.service.resume();
    await s.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
