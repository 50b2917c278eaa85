// What the export says of the reload (issues 20.4 and 21): a broker not started yet is not an
// export failure; a broker that quits after our SIGHUP (as Mosquitto 2.1 does when it refuses a
// reloaded file) is reported in GET /api/v1/export, /readyz and the metrics until one runs again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ReloadTracker } from '../../src/export/reload-tracker';
import { createLogger } from '../../src/logger';
import { startProcess, type Proc } from '../support/processes';
import { ADMIN_AUTH, captureLog, startTestService, type TestService } from '../support/service';

jest.setTimeout(30_000);
let dir: string;
let t: TestService | null = null;
const procs: Proc[] = [];
const pidFile = () => join(dir, 'mosquitto.pid');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-reload-'));
});
afterEach(async () => {
  await t?.stop();
  t = null;
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>, log?: { write(s: string): void }) {
  t = await startTestService(
    'reload',
    {
      PASSWD_FILE: join(dir, 'passwd'),
      ACL_FILE: join(dir, 'acl'),
      EXPORT_DEBOUNCE_MS: '60000', // exports run when the test asks
      EXPORT_MAX_DELAY_MS: '60000',
      ...env,
    },
    { log },
  );
  return t;
}
const api = () => request((t as TestService).service.server);
const exportNow = () => api().post('/api/v1/export').set(ADMIN_AUTH);
const metric = async (name: string) => {
  const text = (await api().get('/metrics').expect(200)).text;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
};

it('started before the broker: files written, "no broker yet", not a failed export', async () => {
  const log = captureLog();
  await start({ MOSQUITTO_RELOAD: `pidfile:${pidFile()}` }, log.stream);
  await (t as TestService).service.ctx.devices.create({ id: 'd1', password: 'password-1' });
  for (let i = 0; i < 4; i++) {
    const res = await exportNow().expect(200);
    expect(res.body).toMatchObject({ lastError: null, consecutiveFailures: 0, pending: false });
    expect(res.body.lastSuccessAt).not.toBeNull();
    expect(res.body.reload.state).toBe('no-broker');
    expect(res.body.reload.message).toBe(
      `files written; reload failed (no broker at that pid file yet): ${pidFile()} does not exist`,
    );
  }
  const status = await api().get('/api/v1/export').set(ADMIN_AUTH).expect(200);
  expect(status.body.users).toBe(1);
  const ready = await api().get('/readyz').expect(200);
  expect(ready.body.checks).toMatchObject({ export: 'ok', broker: 'ok' });
  expect(log.text()).not.toMatch(/export failed/);
  expect(
    log.lines.some((l) => l.level === 40 && /no broker at that pid file/.test(String(l.msg))),
  ).toBe(true);
  expect(await metric('mqtt_authd_broker_reloads_total{result="no-broker"}')).toBeGreaterThan(0);
});

it('a broker that quits on SIGHUP is reported in the status, /readyz and a metric, until one runs again', async () => {
  // `sleep` ends on SIGHUP (the default action), as Mosquitto 2.1 does on files it refuses.
  const doomed = startProcess('sleep', ['600']);
  procs.push(doomed);
  await writeFile(pidFile(), `${doomed.pid}\n`);
  await start({ MOSQUITTO_RELOAD: `pidfile:${pidFile()}`, MOSQUITTO_RELOAD_CHECK_MS: '1500' });
  await (t as TestService).service.ctx.devices.create({ id: 'd1', password: 'password-1' });
  const res = await exportNow().expect(200); // the files were written
  expect(res.body.consecutiveFailures).toBe(0);
  expect(res.body.reload).toMatchObject({ state: 'broker-died', pid: doomed.pid });
  expect(res.body.reload.message).toMatch(
    new RegExp(
      `^files written; the broker \\(pid ${doomed.pid}\\) exited within \\d+ ms of SIGHUP: .*terminating`,
    ),
  );
  const notReady = await api().get('/readyz').expect(503);
  expect(notReady.body.checks.broker).toBe('died after the last reload');
  expect(await metric('mqtt_authd_broker_died')).toBe(1);
  expect(await metric('mqtt_authd_broker_reloads_total{result="died"}')).toBe(1);

  // The pid file still names the dead pid: another export says the same, not "no broker yet".
  await (t as TestService).service.ctx.devices.create({ id: 'd2', password: 'password-2' });
  expect((await exportNow().expect(200)).body.reload.state).toBe('broker-died');
  await api().get('/readyz').expect(503);

  // A broker runs at the pid file again: readiness clears without waiting for an export.
  const again = startProcess('sleep', ['600']);
  procs.push(again);
  await writeFile(pidFile(), `${again.pid}\n`);
  await api().get('/readyz').expect(200);
  const status = await api().get('/api/v1/export').set(ADMIN_AUTH).expect(200);
  expect(status.body.reload).toMatchObject({ state: 'ok', pid: again.pid });
  expect(await metric('mqtt_authd_broker_died')).toBe(0);
});

it('a reload that cannot be carried out is a failed export, said as such', async () => {
  await start({ MOSQUITTO_RELOAD: 'command:echo no such broker >&2; exit 3' });
  await (t as TestService).service.ctx.devices.create({ id: 'd1', password: 'password-1' });
  const res = await exportNow().expect(503);
  expect(res.body.error.message).toMatch(
    /^the export failed: files written; reload failed: reload command failed: .*no such broker/,
  );
  const status = await api().get('/api/v1/export').set(ADMIN_AUTH).expect(200);
  expect(status.body.reload.state).toBe('failed');
  expect(status.body.consecutiveFailures).toBeGreaterThan(0);
  (t as TestService).service.exporter.cancel();
});

it('a burst of exports: "no broker" found while the last SIGHUP is watched is that broker dying', async () => {
  // Export A signals the broker, which quits; export B runs before A's watch has looked and
  // finds no broker at the pid file. The watch of A must still report the death.
  const broker = startProcess('sleep', ['600']);
  procs.push(broker);
  const tracker = new ReloadTracker({
    reloader: null,
    checkMs: 1500,
    logger: createLogger('silent'),
  });
  tracker.record({ kind: 'signalled', pid: broker.pid, message: `SIGHUP to pid ${broker.pid}` });
  expect(tracker.status.state).toBe('checking');
  await broker.kill('SIGHUP');
  tracker.record({ kind: 'no-broker', message: `pid ${broker.pid} is not running` });
  await tracker.watching;
  expect(tracker.status).toMatchObject({ state: 'broker-died', pid: broker.pid });
  expect(tracker.brokerDied).toBe(true);
});
