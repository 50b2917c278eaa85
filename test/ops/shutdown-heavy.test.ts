// SIGTERM during heavy work ends the process within SHUTDOWN_TIMEOUT_MS + 1 s: slow-lane hashes
// queued and running in the thread pool, and a command-line import in the middle of its work.
// (Node's exit waits for a derivation already running in the thread pool: one hash is at most
// PASSWD_MAX_ITERATIONS of work, which is why that bound also bounds the shutdown.)
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { readConfig } from '../../src/config';
import { createContext } from '../../src/context';
import {
  CLI,
  cleanPrefix,
  startNode,
  startRedis,
  startService,
  testPrefix,
} from '../support/processes';
import { TEST_REDIS_URL } from '../support/service';
import { JSON_HEADERS, send, sleep } from '../support/http';

jest.setTimeout(90_000);
const SHUTDOWN_TIMEOUT_MS = 1000;

it('ends within SHUTDOWN_TIMEOUT_MS + 1 s while slow-lane hashes run and wait', async () => {
  const prefix = testPrefix('shutdown-heavy');
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    PASSWD_ITERATIONS: '101',
    PASSWD_MAX_ITERATIONS: '500000',
    PASSWD_SLOW_LANE_MAX_WAIT_MS: '600000', // let every login queue
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  };
  // Hashes that need the full derivation (a random key never matches): seconds each.
  const ctx = createContext(readConfig({ ...env, LOG_LEVEL: 'silent' }));
  try {
    await ctx.health.ready(5000);
    for (let i = 0; i < 8; i++) {
      const hash = `$7$500000$${randomBytes(12).toString('base64')}$${randomBytes(64).toString('base64')}`;
      await ctx.devices.importHash(`heavy-${i}`, hash);
    }
  } finally {
    await ctx.close();
  }
  const s = await startService({ env });
  try {
    const logins = Array.from({ length: 8 }, (_, i) =>
      send(s.port, '/mqtt/user', {
        body: JSON.stringify({ username: `heavy-${i}`, password: 'x', clientid: `h${i}` }),
        headers: JSON_HEADERS,
        timeoutMs: 60_000,
      }),
    );
    await sleep(500);
    const t0 = Date.now();
    const exit = await s.kill('SIGTERM');
    const ms = Date.now() - t0;
    console.log(`SIGTERM with 8 × 500 000-iteration logins in the slow lane: exited in ${ms} ms`);
    expect(exit.signal).toBeNull();
    // the bound, plus slack for a loaded machine
    expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1000 + 1000);
    // they were in flight (not refused at once as too costly)
    const answers = await Promise.all(logins);
    console.log(`the logins' answers: ${answers.map((a) => a.status).join(' ')}`);
    expect(answers.filter((a) => a.status === 403).length).toBeLessThan(8);
  } finally {
    await s.stop();
    await cleanPrefix(TEST_REDIS_URL, prefix);
  }
});

it('a command-line import stops promptly on SIGTERM and SIGINT', async () => {
  const src = await startRedis();
  const goauth = new Redis(src.url);
  const prefixes: string[] = [];
  const ours = new Redis(TEST_REDIS_URL);
  try {
    // 20 000 users with go-auth hashes and rule sets: a long import.
    for (let b = 0; b < 20; b++) {
      const m = goauth.multi();
      for (let i = 0; i < 1000; i++) {
        const u = `u${b}-${i}`;
        m.set(
          u,
          `PBKDF2$sha512$1000$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`,
        );
        m.sadd(`${u}:racls`, `a/${u}/#`, `b/${u}/+`);
      }
      await m.exec();
    }
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      // A prefix of its own for each run: a second import over the first one's devices would
      // have less to do and could end before the signal.
      const prefix = testPrefix(`shutdown-import-${sig}`);
      prefixes.push(prefix);
      const p = startNode([CLI, 'import-goauth', '--redis', src.url], {
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        LOG_LEVEL: 'warn',
      });
      // Signalled in the middle of its work: once its first devices are written.
      const written = async () => {
        let cursor = '0';
        do {
          const [next, found] = await ours.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (found.length > 0) return true;
          cursor = next;
        } while (cursor !== '0');
        return false;
      };
      for (let i = 0; i < 300 && !(await written()); i++) await sleep(50);
      expect(p.isRunning()).toBe(true);
      const t0 = Date.now();
      const exit = await p.kill(sig);
      const ms = Date.now() - t0;
      console.log(`import-goauth: ${sig} ended it in ${ms} ms (${JSON.stringify(exit)})`);
      expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1000);
    }
  } finally {
    goauth.disconnect();
    ours.disconnect();
    await src.stop();
    for (const prefix of prefixes) await cleanPrefix(TEST_REDIS_URL, prefix);
  }
});
