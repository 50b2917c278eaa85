// End to end through a real Mosquitto that knows nothing of us but our exported files:
// register, publish, rotate, delete, import — each reaching the broker via export + SIGHUP.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import request from 'supertest';
import { importPasswd } from '../../src/cli/import-passwd';
import {
  commandSync,
  mosquittoPasswd,
  startMosquitto,
  type MosquittoProcess,
} from '../support/processes';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';
import { eventually } from '../support/http';

const auth = ADMIN_AUTH;
const uid = commandSync('id', ['-u', 'mosquitto']).stdout.trim();
const gid = commandSync('id', ['-g', 'mosquitto']).stdout.trim();
let dir: string;
let t: TestService;
let broker: MosquittoProcess;
const clients: MqttClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-e2e-'));
  await chmod(dir, 0o755);
  t = await startTestService('e2e', {
    PASSWD_FILE: join(dir, 'passwd'),
    ACL_FILE: join(dir, 'acl'),
    EXPORT_OWNER: `${uid}:${gid}`, // the broker drops to `mosquitto` before reading the files
    EXPORT_DEBOUNCE_MS: '20',
    EXPORT_MAX_DELAY_MS: '200',
    MOSQUITTO_RELOAD: `pidfile:${join(dir, 'mosquitto.pid')}`,
  });
  await t.service.exporter.run(true);
  broker = await startMosquitto({
    dir,
    dropPrivileges: true,
    config: [
      `password_file ${join(dir, 'passwd')}`,
      `acl_file ${join(dir, 'acl')}`,
      'allow_anonymous false',
    ].join('\n'),
  });
  await writeFile(join(dir, 'mosquitto.pid'), String(broker.pid)); // pid_file is only written by -d
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await broker?.stop();
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

const connect = async (username: string, password: string) => {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
    username,
    password,
    clientId: `${username}-${clients.length}`,
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  clients.push(c);
  return c;
};
/** true for a CONNACK refusal; a timeout or a dead broker fails the test instead. */
const refused = (username: string, password: string) =>
  connect(username, password).then(
    () => false,
    (err: Error) => {
      if (/^Connection refused: /.test(err.message)) return true;
      throw err;
    },
  );

/** Runs `change`, then waits until the broker has re-read our files. */
async function changeAndReload(change: () => Promise<unknown>): Promise<void> {
  const from = broker.logs().length;
  await change();
  await broker.waitForLog(/Reloading config/, 5000, from);
}

it('a device registered through the API connects; allowed publishes are delivered, forbidden ones not', async () => {
  const api = request(t.service.server);
  let dev = '';
  let devPw = '';
  await changeAndReload(async () => {
    const a = await api.post('/api/v1/devices').set(auth).send({ id: 'dev-a' }).expect(201);
    await api
      .post('/api/v1/devices')
      .set(auth)
      .send({ id: 'watch', password: 'watch-password', acl: [{ pattern: '#', access: 'read' }] })
      .expect(201);
    dev = a.body.id;
    devPw = a.body.password;
  });
  const watcher = await connect('watch', 'watch-password');
  const got: string[] = [];
  watcher.on('message', (topic) => got.push(topic));
  await watcher.subscribeAsync('#');
  const device = await connect(dev, devPw);
  await device.publishAsync('other/x', 'forbidden', { qos: 1 }); // broker drops it (acl write)
  await device.publishAsync(`devices/${dev}/telemetry`, 'ok', { qos: 1 });
  await eventually(async () => expect(got).toContain(`devices/${dev}/telemetry`));
  expect(got).not.toContain('other/x');
  expect(await refused(dev, 'wrong-password')).toBe(true);
});

it('after rotation the old password is refused and the new one works', async () => {
  const api = request(t.service.server);
  const a = await api
    .post('/api/v1/devices')
    .set(auth)
    .send({ id: 'dev-rot', password: 'old-password' });
  await eventually(async () => expect(await refused('dev-rot', 'old-password')).toBe(false), 5000);
  let fresh = '';
  await changeAndReload(async () => {
    fresh = (await api.post('/api/v1/devices/dev-rot/password').set(auth).send({}).expect(200)).body
      .password;
  });
  expect(a.status).toBe(201);
  expect(await refused('dev-rot', 'old-password')).toBe(true);
  expect(await refused('dev-rot', fresh)).toBe(false);
});

it('after DELETE (and the reload) the device is refused', async () => {
  const api = request(t.service.server);
  await api
    .post('/api/v1/devices')
    .set(auth)
    .send({ id: 'dev-del', password: 'del-password' })
    .expect(201);
  await eventually(async () => expect(await refused('dev-del', 'del-password')).toBe(false), 5000);
  await changeAndReload(() => api.delete('/api/v1/devices/dev-del').set(auth).expect(204));
  expect(await refused('dev-del', 'del-password')).toBe(true);
});

it("an imported mosquitto_passwd file's users still log in with their old passwords", async () => {
  const legacy = join(dir, 'legacy-passwd');
  await mosquittoPasswd(legacy, 'old-7', 'seven-password');
  await mosquittoPasswd(legacy, 'old-6', 'six-password', ['-H', 'sha512']);
  const legacyAcl = join(dir, 'legacy-acl');
  await writeFile(legacyAcl, 'user old-7\ntopic readwrite legacy/#\n');
  await changeAndReload(async () => {
    const report = await importPasswd(t.service.ctx.devices, legacy, legacyAcl);
    expect(report).toMatchObject({ created: 2, updated: 0, problems: [] });
  });
  expect(await refused('old-7', 'seven-password')).toBe(false);
  expect(await refused('old-6', 'six-password')).toBe(false);
  expect(await refused('old-6', 'seven-password')).toBe(true);
  const watcher = await connect('watch', 'watch-password');
  const got: string[] = [];
  watcher.on('message', (topic) => got.push(topic));
  await watcher.subscribeAsync('legacy/#');
  await (await connect('old-7', 'seven-password')).publishAsync('legacy/a', 'x', { qos: 1 });
  await eventually(async () => expect(got).toContain('legacy/a'));
});
