// Walks docs/fallback.md's "Step by step" (the second path: a stock Mosquitto reading the files
// mqtt-authd exports), after the README quick start's steps 1 and 2, with the commands taken from
// the docs themselves. What is rewritten, and only that: the service's port 8080 and the broker's
// 1884 become free ports, /tmp/mqtt-authd becomes a fresh temp dir, and the service gets a key
// prefix of this test's own (REDIS_KEY_PREFIX) and the test Redis. As root it follows the page's
// paragraph for root. Of `npm start` the test runs what it runs last (`node dist/src/cli.js serve`).
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { docBlocks, shellLines } from '../support/doc-blocks';
import { send } from '../support/http';
import {
  CLI,
  freePort,
  ROOT,
  startMosquitto,
  startProcess,
  testPrefix,
  type MosquittoProcess,
} from '../support/processes';
import {
  asRoot,
  baseEnv as envFor,
  firstRunService,
  hasScript,
  pageBlocks,
  registerDevice,
  terminal,
  until,
} from '../support/quick-start';
import { cleanTestPrefix } from '../support/topology';

const README = readFileSync(path.join(ROOT, 'docs/fallback.md'), 'utf8');
const block = pageBlocks([
  ['README.md', 'Quick start'],
  ['docs/fallback.md', 'Step by step'],
]);
const prefix = testPrefix('fallback-quick');
const baseEnv = () => envFor(prefix);

const procs: { stop(): Promise<unknown> }[] = [];
let dir = '';
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await cleanTestPrefix(prefix);
});

(hasScript ? it : it.skip)(
  'the fallback steps: token, device, service exporting, stock broker, one publish allowed and one refused',
  async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toMatch(/ && node dist\/src\/cli\.js serve$/);

    // 1. On a terminal (script(1) gives it a pty), no token configured: one for this run, shown.
    const { term: term1, port, token } = await firstRunService(baseEnv());
    procs.push(term1);

    // 2. A device, registered from a second terminal as the README shows.
    const term2 = terminal(baseEnv());
    procs.push(term2.proc);
    await registerDevice(term2, block, port, token);

    // 3. The fallback pair. The service goes first: it writes the files the broker needs.
    await term1.stop();
    await until('the first service to stop', async () => {
      const r = await send(port, '/healthz', { method: 'GET', timeoutMs: 300 }).catch(() => null);
      return r === null || r.status !== 200 ? true : undefined;
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'authd-quick-'));
    await chmod(dir, 0o755);
    const inDir = (s: string) => s.replaceAll('/tmp/mqtt-authd', dir);
    let ownerVar = '';
    if (asRoot) {
      // The page's paragraph for root: the broker reads the files as `mosquitto`.
      const chown = /`(chown mosquitto \/tmp\/mqtt-authd)`/.exec(README)?.[1];
      ownerVar =
        /`(EXPORT_OWNER=\$\(id -u mosquitto\):\$\(id -g mosquitto\))`/.exec(README)?.[1] ?? '';
      expect(chown && ownerVar).toBeTruthy();
      expect((await term2.run(`${inDir(chown!)} && echo chowned`)).trim()).toBe('chowned');
    }
    const serviceCmd = shellLines(block('service', (t) => /npm start$/.test(t.trim())));
    expect(serviceCmd).toHaveLength(1);
    const servicePort = await freePort();
    const service = startProcess(
      'bash',
      [
        '-c',
        `export TOKEN=${token} PORT=${servicePort}; ${ownerVar} ` +
          inDir(serviceCmd[0]!).replace(/npm start$/, `exec ${process.execPath} ${CLI} serve`),
      ],
      { env: baseEnv(), cwd: ROOT },
    );
    procs.push(service);
    await until('the service with the export', async () => {
      const r = await send(servicePort, '/healthz', { method: 'GET', timeoutMs: 500 });
      return r.status === 200 ? true : undefined;
    });
    await until('the exported passwd file', () =>
      stat(path.join(dir, 'passwd')).then(
        (s) => (s.size > 0 ? true : undefined),
        () => undefined,
      ),
    );
    // The token from step 1 keeps working, now from ADMIN_TOKENS.
    const listed = await send(servicePort, '/api/v1/devices', {
      method: 'GET',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);
    // The audit trail names the first-run token's holder, never the token.
    const audit = await send(servicePort, '/api/v1/audit', {
      method: 'GET',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(audit.body).toMatch(/"actor":"first-run","action":"create","target":"sensor-1"/);
    expect(audit.body).not.toContain(token);

    // The broker from the README's own config; its `listener 1884` becomes a free port.
    const conf = block('broker config', (t) => t.includes('password_file') && !t.includes('cat >'));
    expect(conf).toMatch(/^listener 1884 127\.0\.0\.1$/m);
    expect(conf).toMatch(/^pid_file \/tmp\/mqtt-authd\/mosquitto\.pid$/m);
    expect(serviceCmd[0]).toContain('MOSQUITTO_RELOAD=pidfile:/tmp/mqtt-authd/mosquitto.pid');
    expect(block('broker start', (t) => t.startsWith('mosquitto '))).toBe(
      'mosquitto -c /tmp/mqtt-authd/mosquitto.conf',
    );
    const broker: MosquittoProcess = await startMosquitto({
      config: inDir(conf.replace(/^listener .*$/m, '')),
      dir,
      dropPrivileges: asRoot,
    });
    procs.push(broker);

    // 4. The check: the allowed publish is silent, the refused one says so (MQTT 5, QoS 1).
    const check = shellLines(
      docBlocks('docs/fallback.md').find((b) => b.text.includes('mosquitto_pub'))!.text,
    );
    expect(check).toHaveLength(2);
    const pub = (line: string) =>
      term2.run(`${line.replace('-p 1884', `-p ${broker.port}`)} 2>&1; echo "exit=$?"`);
    const allowed = await pub(check[0]!);
    expect(allowed.trim()).toBe('exit=0');
    const refused = await pub(check[1]!);
    expect(refused).toContain('Warning: Publish 1 failed: Not authorized.');
    // The broker saw both, and refused only the second.
    expect(broker.logs()).toMatch(/Denied PUBLISH from .* 'devices\/sensor-2\/temp'/);
    expect(broker.logs()).not.toMatch(/Denied PUBLISH from .* 'devices\/sensor-1\/temp'/);

    // A change through the API reaches the broker by export and SIGHUP (the pid_file pair).
    const from = broker.logs().length;
    const put = await send(servicePort, '/api/v1/devices/sensor-1/acl', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ acl: [{ pattern: 'devices/sensor-2/#', access: 'write' }] }),
    });
    expect(put.status).toBe(200);
    await broker.waitForLog(/Reloading config\./, 10_000, from);
    expect(await pub(check[1]!)).toMatch(/^exit=0\s*$/);
  },
  120_000,
);
