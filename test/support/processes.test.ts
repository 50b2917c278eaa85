// Self-test of the real-process helpers: they start, answer, stop and clean up.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import mqtt from 'mqtt';
import { eventually } from './http';
import {
  cleanPrefix,
  commandSync,
  runCommand,
  freePort,
  mosquittoPasswd,
  startMosquitto,
  startRedis,
  testPrefix,
  type MosquittoProcess,
  type RedisProcess,
} from './processes';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves to 'ok' or to the MQTT refusal the broker answered with. */
async function tryConnect(port: number, username: string, password: string): Promise<string> {
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    await client.endAsync();
    return 'ok';
  } catch (err) {
    // Only a CONNACK refusal counts; a timeout or a dead broker is a failure of the test.
    if (!/^Connection refused: /.test((err as Error).message)) throw err;
    return `refused: ${(err as Error).message}`;
  }
}

test('freePort gives a port one can listen on, low enough for a cluster bus port (+10000)', async () => {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    expect(port).toBeLessThanOrEqual(55535);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
  }
});

test('testPrefix is random and fits REDIS_KEY_PREFIX rules', () => {
  const a = testPrefix('devices api');
  expect(a).toMatch(/^test:devices-api:[0-9a-f]{12}:$/);
  expect(testPrefix('devices api')).not.toBe(a);
  expect(testPrefix('x'.repeat(200)).length).toBeLessThanOrEqual(64);
});

describe('startRedis', () => {
  let redis: RedisProcess;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 500 });
    client.on('error', () => undefined);
  });
  afterAll(async () => {
    await client.quit();
    await redis.stop();
  });

  test('answers on its own port', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    expect(await client.ping()).toBe('PONG');
  });

  test('cleanPrefix deletes only keys under the prefix, glob characters included', async () => {
    const prefix = testPrefix('clean') + '[a]*?';
    const other = testPrefix('keep');
    const many = Array.from({ length: 2500 }, (_, i) => [`${prefix}k${i}`, 'v']).flat();
    await client.mset(...many);
    await client.set(`${other}k`, 'v');
    await client.set(prefix.replace('[a]', 'a') + 'k', 'glob-lookalike');
    expect(await cleanPrefix(redis.url, prefix)).toBe(2500);
    expect(await client.exists(`${prefix}k0`)).toBe(0);
    expect(await client.get(`${other}k`)).toBe('v');
    expect(await client.get(prefix.replace('[a]', 'a') + 'k')).toBe('glob-lookalike');
    await expect(cleanPrefix(redis.url, '')).rejects.toThrow(/empty prefix/);
  });

  test('pause() hangs it, resume() brings it back', async () => {
    redis.pause();
    try {
      await expect(client.ping()).rejects.toThrow(/timed out/i);
    } finally {
      redis.resume();
    }
    await expect(client.ping()).resolves.toBe('PONG');
  });

  test('stop() then restart() gives an empty server on the same port', async () => {
    const { port } = redis;
    const oldPid = redis.pid;
    await client.set('survives', 'no');
    await redis.stop();
    expect(alive(oldPid)).toBe(false);
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(oldPid);
    const fresh = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await fresh.get('survives')).toBeNull();
    } finally {
      await fresh.quit();
    }
  });

  test('kill() crashes it (SIGKILL) and waits for the exit', async () => {
    const pid = redis.pid;
    await redis.kill();
    expect(alive(pid)).toBe(false);
    await redis.restart();
    expect(alive(redis.pid)).toBe(true);
  });
});

test('startRedis takes args and a conf file: a replica (--replicaof) follows its primary', async () => {
  const primary = await startRedis();
  const replica = await startRedis({
    conf: 'replica-read-only yes\n',
    args: ['--replicaof', '127.0.0.1', String(primary.port)],
  });
  try {
    expect((await primary.cli('SET', 'k', 'v')).stdout.trim()).toBe('OK');
    await eventually(
      async () => expect((await replica.cli('GET', 'k')).stdout.trim()).toBe('v'),
      10_000,
    );
    expect((await replica.cli('CONFIG', 'GET', 'replica-read-only')).stdout).toMatch(/yes/);
    expect((await replica.cli('SET', 'k', 'w')).stdout).toMatch(/READONLY/);
  } finally {
    await replica.stop();
    await primary.stop();
  }
});

test('startRedis with sentinel: true runs a Sentinel from a conf it may rewrite', async () => {
  const primary = await startRedis();
  const sentinel = await startRedis({
    conf: `sentinel monitor m 127.0.0.1 ${primary.port} 1\n`,
    sentinel: true,
  });
  try {
    const addr = await sentinel.cli('SENTINEL', 'get-master-addr-by-name', 'm');
    expect(addr.stdout.split('\n').slice(0, 2)).toEqual(['127.0.0.1', String(primary.port)]);
  } finally {
    await sentinel.stop();
    await primary.stop();
  }
});

test('startRedis with --cluster-enabled yes gives a cluster node (its bus port fits)', async () => {
  const node = await startRedis({ args: ['--cluster-enabled', 'yes'] });
  try {
    expect(node.port + 10000).toBeLessThanOrEqual(65535);
    expect((await node.cli('CLUSTER', 'INFO')).stdout).toMatch(/cluster_state:fail/); // no slots yet
    expect((await node.cli('CLUSTER', 'MYID')).stdout.trim()).toMatch(/^[0-9a-f]{40}$/);
  } finally {
    await node.stop();
  }
});

test('runCommand reports exit codes and output and feeds stdin; it never rejects', async () => {
  expect(await runCommand('/bin/sh', ['-c', 'cat; echo err >&2; exit 3'], { input: 'in' })).toEqual(
    {
      code: 3,
      stdout: 'in',
      stderr: 'err\n',
    },
  );
  expect((await runCommand('/nonexistent/binary', [])).code).not.toBe(0);
  expect(commandSync('/bin/sh', ['-c', 'echo hi']).stdout).toBe('hi\n');
});

describe('startMosquitto with a password_file', () => {
  let broker: MosquittoProcess;

  test('rejects a wrong password, accepts the right one, and reloads on SIGHUP', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-selftest-'));
    try {
      const pw = path.join(dir, 'passwd');
      await mosquittoPasswd(pw, 'alice', 'right-pw');
      broker = await startMosquitto({
        dir,
        config: `allow_anonymous false\npassword_file ${pw}`,
      });
      expect(broker.logs()).toContain('mosquitto version');
      expect(await tryConnect(broker.port, 'alice', 'right-pw')).toBe('ok');
      expect(await tryConnect(broker.port, 'alice', 'wrong-pw')).toMatch(
        /refused.*Not authorized/i,
      );
      expect(await tryConnect(broker.port, 'bob', 'bob-pw')).toMatch(/refused.*Not authorized/i);

      await mosquittoPasswd(pw, 'bob', 'bob-pw');
      await broker.reload();
      expect(await tryConnect(broker.port, 'bob', 'bob-pw')).toBe('ok');

      const pid = broker.pid;
      await broker.stop();
      expect(alive(pid)).toBe(false);
      expect(broker.isRunning()).toBe(false);
      await broker.stop(); // idempotent
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a start failure reports the broker log', async () => {
    await expect(
      startMosquitto({ config: 'password_file /nonexistent/passwd\nallow_anonymous false' }),
    ).rejects.toThrow(/Unable to open pwfile/);
  });

  // Only meaningful when the tests run as root (as CI does).
  const asRoot = process.getuid?.() === 0 ? test : test.skip;
  asRoot(
    'with dropPrivileges the broker cannot read a root-only 0600 file (root only)',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-selftest-'));
      try {
        const pw = path.join(dir, 'passwd');
        await writeFile(pw, '');
        await mosquittoPasswd(pw, 'alice', 'right-pw');
        await chmod(pw, 0o600);
        await expect(
          startMosquitto({
            dir,
            dropPrivileges: true,
            config: `allow_anonymous false\npassword_file ${pw}`,
          }),
        ).rejects.toThrow(/Unable to open pwfile/);
        await chmod(pw, 0o644);
        const b = await startMosquitto({
          dir,
          dropPrivileges: true,
          config: `allow_anonymous false\npassword_file ${pw}`,
        });
        try {
          expect(await tryConnect(b.port, 'alice', 'right-pw')).toBe('ok');
        } finally {
          await b.stop();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
