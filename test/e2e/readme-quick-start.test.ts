// Walks the README's "Quick start" as a newcomer would, with the commands taken from the README
// itself, so the test fails when the text and the product drift apart: a device through a real
// Mosquitto loading our plugin. What is rewritten, and only that: the service's port 8080 and the
// broker's 1884 become free ports, /tmp/mqtt-authd becomes a fresh temp dir, and the service gets
// a key prefix of this test's own (REDIS_KEY_PREFIX) and the test Redis. It runs as the user who
// runs the suite (root in CI: then mosquitto drops to its `mosquitto` user, as the README says).
// `bash scripts/setup.sh && npm ci` is this machine's preparation and `npm run build` (and the
// plugin's make) is done by `npm test` before jest, so of `npm start` the test runs what it runs
// last (`node dist/src/cli.js serve`, checked against package.json).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { docBlocks, shellLines } from '../support/doc-blocks';
import { send, sleep } from '../support/http';
import {
  CLI,
  commandSync,
  freePort,
  ROOT,
  startProcess,
  testPrefix,
  type Proc,
} from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const quick = docBlocks('README.md').filter((b) => b.section === 'Quick start');
const block = (what: string, pick: (text: string) => boolean) => {
  const found = quick.filter((b) => pick(b.text));
  if (found.length !== 1) throw new Error(`README quick start: expected one ${what} block`);
  return found[0]!.text;
};
const asRoot = process.getuid?.() === 0;
// script(1) (util-linux) gives the service a terminal, as the README's first command has.
const hasScript = commandSync('sh', ['-c', 'command -v script']).code === 0;
const prefix = testPrefix('readme-quick');
const baseEnv = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>) {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A shell fed line by line through stdin, like a terminal; returns each block's output. */
function terminal(env: Record<string, string>) {
  const sh = startProcess('bash', ['--noprofile', '--norc'], { env, stdin: true, cwd: ROOT });
  let n = 0;
  return {
    proc: sh,
    async run(text: string): Promise<string> {
      const marker = `__block_${++n}_done__`;
      const from = sh.logs().length;
      sh.input(`${text}\necho ${marker}\n`);
      return until(`the shell to run:\n${text}\n(output: ${sh.logs().slice(from)})`, () => {
        const out = sh.logs().slice(from);
        const at = out.indexOf(marker);
        return at >= 0 ? out.slice(0, at) : undefined;
      });
    },
  };
}

const procs: { stop(): Promise<unknown> }[] = [];
let dir = '';
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await cleanTestPrefix(prefix);
});

(hasScript ? it : it.skip)(
  'the README quick start: token, device, a broker with our plugin, one publish allowed and one refused',
  async () => {
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
    const port = await freePort();
    const term1: Proc = startProcess(
      'script',
      ['-qfec', `exec ${process.execPath} ${CLI} serve`, '/dev/null'],
      { env: { ...baseEnv(), TERM: 'dumb', PORT: String(port) }, stdin: true, cwd: ROOT },
    );
    procs.push(term1);
    const token = await until('the first-run token', () => {
      return /export TOKEN=(\S+)/.exec(term1.logs())?.[1];
    });
    expect(token.length).toBeGreaterThanOrEqual(16);
    // Shown on the terminal, never in a log line.
    const logLines = term1
      .logs()
      .split(/\r?\n/)
      .filter((l) => l.startsWith('{'));
    expect(logLines.some((l) => l.includes('listening'))).toBe(true);
    expect(logLines.filter((l) => l.includes(token))).toEqual([]);

    // 2. A device, registered from a second terminal (in the clone) as the README shows.
    const term2 = terminal(baseEnv());
    procs.push(term2.proc);
    const at8080 = (t: string) => t.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
    const register = block('register', (t) => t.includes('/api/v1/devices'));
    expect(register).toMatch(/^export TOKEN=…$/m);
    const registered = await term2.run(
      at8080(register.replace(/^export TOKEN=…$/m, `export TOKEN=${token}`)),
    );
    const device = JSON.parse(registered) as { id: string; password?: string };
    expect(device.id).toBe('sensor-1');

    // 3. The broker with our plugin, from the README's block, in the same terminal: no restart
    // of the service, no pid file, no exported files.
    dir = await mkdtemp(path.join(os.tmpdir(), 'authd-quick-'));
    const brokerPort = await freePort();
    const brokerBlock = block('broker', (t) => t.includes('mosquitto.conf'));
    expect(brokerBlock).toContain('plugin $PWD/mosquitto/plugin/mqtt-authd.so');
    expect(brokerBlock).toMatch(/^allow_anonymous false$/m);
    expect(brokerBlock).toMatch(/^listener 1884 127\.0\.0\.1$/m);
    expect(brokerBlock).not.toMatch(/pid_file|password_file/);
    expect(brokerBlock.trim().split('\n').pop()).toBe(
      'mosquitto -c /tmp/mqtt-authd/mosquitto.conf &',
    );
    const started = await term2.run(
      `${at8080(brokerBlock)
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
    // The absolute plugin path the heredoc wrote.
    expect(readFileSync(path.join(dir, 'mosquitto.conf'), 'utf8')).toContain(
      `plugin ${ROOT}/mosquitto/plugin/mqtt-authd.so`,
    );
    await until('the broker with the plugin', () =>
      /mosquitto version \S+ running/.test(term2.proc.logs()) ? true : undefined,
    );
    expect(term2.proc.logs()).not.toMatch(/Error: /);
    if (asRoot) {
      // As root, mosquitto has dropped to its own user after loading the plugin.
      const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${brokerPid}/status`, 'utf8'));
      expect(Number(uid?.[1])).toBe(Number(commandSync('id', ['-u', 'mosquitto']).stdout.trim()));
    }

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
  },
  120_000,
);
