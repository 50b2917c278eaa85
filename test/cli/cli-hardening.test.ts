// The CLI: passwords typed on a terminal are not echoed and Enter ends them; the API's length
// rules; changes and imports are audited as `cli:<user>`; an import does not silently replace
// the common rules; unknown access words are reported with FILE:LINE.
import { requireBuilt } from '../support/built';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { importPasswd } from '../../src/cli/import-passwd';
import { readConfig } from '../../src/config';
import { createContext, type AppContext } from '../../src/context';
import { verifyPassword } from '../support/verify';
import { createLogger } from '../../src/logger';
import { RedisAuditStore } from '../../src/store/audit-store';
import { AuditLog } from '../../src/ops/audit';
import { createKeys } from '../../src/store/keys';
import { eventually, sleep } from '../support/http';
import {
  cleanPrefix,
  mosquittoPasswd,
  runCommand,
  startProcess,
  testPrefix,
} from '../support/processes';
import { TEST_REDIS_URL } from '../support/service';

jest.setTimeout(30_000);
const BIN = join(__dirname, '../../dist/src/cli.js');
const prefix = testPrefix('cli-hardening');
const env = {
  ...process.env,
  REDIS_URL: TEST_REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  PASSWD_ITERATIONS: '101',
  LOG_LEVEL: 'silent',
};
let dir: string;
let ctx: AppContext;

beforeAll(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'authd-cli-hardening-'));
  ctx = createContext(readConfig(env), { logger: createLogger('silent'), adminTokens: [] });
  await ctx.health.ready(5000);
});
afterAll(async () => {
  await ctx.close();
  await cleanPrefix(TEST_REDIS_URL, prefix);
  await rm(dir, { recursive: true, force: true });
});

/** Runs the binary with `input` piped to stdin. */
async function cli(args: string[], input = '') {
  const r = await runCommand(process.execPath, [BIN, ...args], { env, input });
  return { ...r, code: r.code ?? 1 };
}

/** Runs the binary on a pseudo-terminal (util-linux `script`); types `typed` after `prompt`. */
async function onTerminal(args: string[], prompt: string, typed: string): Promise<string> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const child = startProcess('script', ['-q', '-e', '-c', cmd, '/dev/null'], { env, stdin: true });
  await eventually(async () => expect(child.logs()).toContain(prompt), 10_000);
  child.input(typed);
  const exit = await Promise.race([child.exited, sleep(15_000).then(() => child.kill())]);
  if (exit.code !== 0) throw new Error(`exit ${JSON.stringify(exit)}: ${child.logs()}`);
  return child.logs();
}

async function auditEntries(): Promise<{ actor: string; action: string; target: string }[]> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const log = new AuditLog(
      new RedisAuditStore(redis, createKeys(prefix), 1000),
      createLogger('silent'),
    );
    return await log.read(100);
  } finally {
    redis.disconnect();
  }
}

describe('the real binary (run `npm run build` first)', () => {
  beforeAll(() => requireBuilt(BIN));
  it('hash on a terminal: nothing echoed, Enter ends the password', async () => {
    const out = await onTerminal(['hash', '--iterations', '101'], 'password: ', 'tty-password-1\r');
    expect(out).not.toContain('tty-password-1');
    const hash = /\$7\$\S+/.exec(out)?.[0] ?? '';
    expect(await verifyPassword('tty-password-1', hash)).toBe('match');
  });

  it('hash and --password-stdin apply the API length rules; piped stdin still works', async () => {
    const short = await cli(['hash'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/password: .*8/);
    const long = await cli(
      ['device', 'add', '--id', 'too-long', '--password-stdin'],
      'x'.repeat(257),
    );
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/password: .*256/);
    const piped = await cli(['hash', '--iterations', '101'], 'piped-password\n');
    expect(await verifyPassword('piped-password', piped.stdout.trim())).toBe('match');
  });

  it('device add, rotate, remove and import-passwd are in the audit trail as cli:<user>', async () => {
    const actor = `cli:${os.userInfo().username}`;
    expect(
      (await cli(['device', 'add', '--id', 'cli-a', '--password-stdin'], 'cli-a-password')).code,
    ).toBe(0);
    expect((await cli(['device', 'rotate', 'cli-a'])).code).toBe(0);
    expect((await cli(['device', 'remove', 'cli-a'])).code).toBe(0);
    const passwd = join(dir, 'import');
    await mosquittoPasswd(passwd, 'cli-imported', 'imported-password');
    expect((await cli(['import-passwd', passwd])).code).toBe(0);
    const entries = await auditEntries();
    const mine = entries.filter((e) => e.actor === actor).map((e) => `${e.action} ${e.target}`);
    expect(mine).toEqual(
      expect.arrayContaining([
        'create cli-a',
        'rotate cli-a',
        'delete cli-a',
        'import cli-imported',
      ]),
    );
  });
});

describe('import-passwd and the acl file', () => {
  it('keeps the common rules unless --replace-common, and says so', async () => {
    const passwd = join(dir, 'p2');
    await mosquittoPasswd(passwd, 'p2-user', 'p2-password');
    const acl = join(dir, 'a2');
    await writeFile(acl, 'pattern read broadcast/%u\n');
    const before = await ctx.devices.getCommonAcl();
    const kept = await importPasswd(ctx.devices, passwd, acl);
    expect(kept.commonRules).toBe(0);
    expect(kept.notes.join('\n')).toMatch(/--replace-common/);
    expect(await ctx.devices.getCommonAcl()).toEqual(before);
    const replaced = await importPasswd(ctx.devices, passwd, acl, undefined, {
      replaceCommon: true,
    });
    expect(replaced.commonRules).toBe(1);
    expect(await ctx.devices.getCommonAcl()).toEqual([{ pattern: 'broadcast/%u', access: 'read' }]);
  });

  it('reports an unknown access word with FILE:LINE and never imports it as part of a pattern', async () => {
    const passwd = join(dir, 'p3');
    await mosquittoPasswd(passwd, 'p3-user', 'p3-password');
    const acl = join(dir, 'a3');
    await writeFile(acl, 'user p3-user\ntopic readwrite ok/#\ntopic rw typo/#\ntopic all x\n');
    const report = await importPasswd(ctx.devices, passwd, acl);
    expect(report.problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      `${acl}:3: unknown access "rw" (expected read, write, readwrite or deny)`,
      `${acl}:4: unknown access "all" (expected read, write, readwrite or deny)`,
    ]);
    expect((await ctx.store.getUser('p3-user'))?.acl).toEqual([
      { pattern: 'ok/#', access: 'readwrite' },
    ]);
  });
});
