// Walks the README's "Quick start" as a newcomer would, with the commands taken from the README
// itself, so the test fails when the text and the product drift apart: a device through a real
// Mosquitto loading our plugin. What is rewritten, and only that: the service's port 8080 and the
// broker's 1884 become free ports, /tmp/mqtt-authd becomes a fresh temp dir, and the service gets
// a key prefix of this test's own (REDIS_KEY_PREFIX) and the test Redis. It runs as the user who
// runs the suite (root in CI: then mosquitto drops to its `mosquitto` user, as the README says)
// and, when that is root, once more with the second terminal (device, broker, check) as a normal
// user (`nobody`). As root the clone is a 0700 directory (as under /root): the README copies the
// plugin where the broker, dropped to `mosquitto`, can read it.
// `bash scripts/setup.sh && npm ci` is this machine's preparation and `npm run build` (and the
// plugin's make) is done by `npm test` before jest, so of `npm start` the test runs what it runs
// last (`node dist/src/cli.js serve`, checked against package.json).
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { docBlocks, shellLines } from '../support/doc-blocks';
import { send } from '../support/http';
import { commandSync, freePort, ROOT, testPrefix } from '../support/processes';
import {
  asRoot,
  baseEnv,
  firstRunService,
  hasScript,
  pageBlocks,
  registerDevice,
  terminal,
  until,
} from '../support/quick-start';
import { cleanTestPrefix } from '../support/topology';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const block = pageBlocks([['README.md', 'Quick start']]);

const procs: { stop(): Promise<unknown> }[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  for (const c of cleanups.reverse()) await c();
});

const idOf = (what: '-u' | '-g', user: string) =>
  Number(commandSync('id', [what, user]).stdout.trim());

async function walk(as: 'suite user' | 'normal user') {
  const prefix = testPrefix(as === 'suite user' ? 'readme-quick' : 'readme-quick-user');
  cleanups.push(() => cleanTestPrefix(prefix));
  const env = baseEnv(prefix);
  // The README's first command, and what `npm start` runs after building what is stale.
  const first = docBlocks('README.md')[0]!
    .text.split('\n')[0]!
    .replace(/\s+#.*$/, '');
  expect(first).toBe('bash scripts/setup.sh && npm ci && npm start');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  expect(pkg.scripts.start).toBe('node scripts/build-if-stale.mjs && node dist/src/cli.js serve');
  // The test command is the one CI runs.
  const second = docBlocks('README.md')[0]!
    .text.split('\n')[1]!
    .replace(/\s+#.*$/, '');
  expect(second).toBe('bash scripts/setup.sh --test && npm ci && npm test');
  expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toMatch(
    /^bash scripts\/setup\.sh --test$/m,
  );

  // 1. On a terminal (script(1) gives it a pty), no token configured: one for this run, shown.
  const { term: term1, port, token } = await firstRunService(env);
  procs.push(term1);

  // 2. A device, registered from a second terminal (in the clone) as the README shows. As a
  // normal user the "clone" is a directory that user can read with the built plugin in it (the
  // suite's own checkout may sit in a directory only root can enter).
  // As root the "clone" is a directory only root can enter (as a clone under /root is), so the
  // walk shows that the broker, dropped to `mosquitto`, loads the copy the README makes.
  let cwd = ROOT;
  let user: { uid: number; gid: number } | undefined;
  if (as === 'normal user') user = { uid: idOf('-u', 'nobody'), gid: idOf('-g', 'nobody') };
  if (user || asRoot) {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'authd-clone-'));
    const clone = cwd;
    cleanups.push(() => rm(clone, { recursive: true, force: true }));
    mkdirSync(path.join(cwd, 'mosquitto/plugin'), { recursive: true });
    copyFileSync(
      path.join(ROOT, 'mosquitto/plugin/mqtt-authd.so'),
      path.join(cwd, 'mosquitto/plugin/mqtt-authd.so'),
    );
    await chmod(cwd, user ? 0o755 : 0o700);
  }
  // Not made here: the README's `install -d` makes it, as on a fresh machine.
  const dir = path.join(os.tmpdir(), `authd-quick-${process.pid}-${Date.now()}`);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const term2 = terminal({ ...env, ...(user ? { HOME: cwd } : {}) }, { cwd, user });
  procs.push(term2.proc);
  await registerDevice(term2, block, port, token);

  // 3. The broker with our plugin, from the README's block, in the same terminal: no restart
  // of the service, no pid file, no exported files.
  const brokerPort = await freePort();
  const brokerBlock = block('broker', (t) => t.includes('mosquitto.conf'));
  expect(brokerBlock).toMatch(/^install -d -m 0755 \/tmp\/mqtt-authd$/m);
  expect(brokerBlock).toMatch(
    /^install -m 0644 mosquitto\/plugin\/mqtt-authd\.so \/tmp\/mqtt-authd\/$/m,
  );
  expect(brokerBlock).toContain('plugin /tmp/mqtt-authd/mqtt-authd.so');
  expect(brokerBlock).toMatch(/^allow_anonymous false$/m);
  expect(brokerBlock).toMatch(/^listener 1884 127\.0\.0\.1$/m);
  expect(brokerBlock).not.toMatch(/pid_file|password_file/);
  expect(brokerBlock.trim().split('\n').pop()).toBe(
    'mosquitto -c /tmp/mqtt-authd/mosquitto.conf &',
  );
  const started = await term2.run(
    `${brokerBlock
      .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
      .replaceAll('/tmp/mqtt-authd', dir)
      .replace('listener 1884 ', `listener ${brokerPort} `)}\necho "broker=$!"`,
  );
  const brokerPid = Number(/broker=(\d+)/.exec(started)?.[1]);
  expect(brokerPid).toBeGreaterThan(0);
  procs.push({
    stop: async () => {
      try {
        process.kill(brokerPid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    },
  });
  expect(readFileSync(path.join(dir, 'mosquitto.conf'), 'utf8')).toContain(
    `plugin ${dir}/mqtt-authd.so`,
  );
  await until('the broker with the plugin', () => {
    const logs = term2.proc.logs();
    // A broker that cannot load the plugin says why and exits: fail with its words at once.
    const failed = /Error: Unable to load auth plugin.*\n.*/.exec(logs);
    if (failed) throw new Error(`the broker did not load the plugin: ${failed[0]}`);
    return /mosquitto version \S+ running/.test(logs) ? true : undefined;
  });
  expect(term2.proc.logs()).not.toMatch(/Error: /);
  // As root, mosquitto has dropped to its own user after loading the plugin; as a normal user
  // it runs as that user.
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${brokerPid}/status`, 'utf8'));
  if (user) expect(Number(uid?.[1])).toBe(user.uid);
  else if (asRoot) expect(Number(uid?.[1])).toBe(idOf('-u', 'mosquitto'));

  // 4. The check: the allowed publish is silent, the refused one says so (MQTT 5, QoS 1).
  const check = shellLines(block('check', (t) => t.includes('mosquitto_pub')));
  expect(check).toHaveLength(2);
  // The broker runs in this terminal's background: its log lines show here too, left out.
  const pub = async (line: string) =>
    (await term2.run(`${line.replace('-p 1884', `-p ${brokerPort}`)} 2>&1; echo "exit=$?"`))
      .split('\n')
      .filter((l) => !/^\d+: /.test(l))
      .join('\n');
  const allowed = await pub(check[0]!);
  expect(allowed.trim()).toBe('exit=0');
  const refused = await pub(check[1]!);
  expect(refused).toContain('Warning: Publish 1 failed: Not authorized.');

  // The audit trail names the first-run token's holder, never the token.
  const audit = await send(port, '/api/v1/audit', {
    method: 'GET',
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(audit.body).toMatch(/"actor":"first-run","action":"create","target":"sensor-1"/);
  expect(audit.body).not.toContain(token);

  // "delete the device and its next publish is refused"
  const del = await send(port, '/api/v1/devices/sensor-1', {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(del.status).toBe(204);
  expect(await pub(check[0]!)).toMatch(/not authori[sz]ed/i);

  // `kill %1` stops the broker, as the README says.
  expect(README).toContain('`kill %1` stops the broker');
  await term2.run('kill %1; wait');
  await until('the broker to stop', () => {
    try {
      process.kill(brokerPid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
  await term1.stop();
}

(hasScript ? it : it.skip)(
  'the README quick start: token, device, a broker with our plugin, one publish allowed and one refused',
  () => walk('suite user'),
  120_000,
);

// As root the same walk runs again as a normal user; run by a normal user the first walk is that.
(hasScript && asRoot ? it : it.skip)(
  "the README quick start as a normal user (the suite runs as root; skipped otherwise: the first walk is the normal user's)",
  () => walk('normal user'),
  120_000,
);
