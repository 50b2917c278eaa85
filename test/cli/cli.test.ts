// CLI commands as functions on the real Redis, plus one smoke test of the real binary.
import { requireBuilt } from '../support/built';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decide,
  deviceAdd,
  deviceList,
  exportOnce,
  formatDecision,
  hashLine,
  parseAccArg,
  parseRuleArg,
} from '../../src/cli/commands';
import { importPasswd } from '../../src/cli/import-passwd';
import { readConfig } from '../../src/config';
import { createContext, type AppContext } from '../../src/context';
import { createLogger } from '../../src/logger';
import { verifyPassword } from '../support/verify';
import { cleanPrefix, mosquittoPasswd, runCommand, testPrefix } from '../support/processes';
import { argon2Cli, goAuthPbkdf2 } from '../support/legacy-hashes';
import { TEST_REDIS_URL } from '../support/service';

let ctx: AppContext;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-cli-'));
  const config = readConfig({
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: testPrefix('cli'),
    PASSWD_ITERATIONS: '101',
    PASSWD_FILE: join(dir, 'passwd'),
    ACL_FILE: join(dir, 'acl'),
  });
  ctx = createContext(config, { logger: createLogger('silent'), adminTokens: [] });
  await ctx.health.ready(5000);
});
afterAll(async () => {
  await ctx.close();
  await cleanPrefix(TEST_REDIS_URL, ctx.config.REDIS_KEY_PREFIX);
  await rm(dir, { recursive: true, force: true });
});

describe('import-passwd', () => {
  it('keeps $7$ and $6$ hashes, imports acl rules, reports bad lines by number, is idempotent', async () => {
    const passwd = join(dir, 'legacy');
    await mosquittoPasswd(passwd, 'seven', 'seven-pw');
    await mosquittoPasswd(passwd, 'six', 'six-pw', ['-H', 'sha512']);
    const good = await readFile(passwd, 'utf8');
    await writeFile(
      passwd,
      `${good}no-colon-line\nbad:user:$7$x\nspace user:${(good.split('\n')[0] ?? '').split(':')[1]}\n# comment\n\ntest:$7$101$njERlZMi/7DzNB9E$/yzqCUhWGkAZ2+h0JzojJAjLCVTZ8quVVHhnC1Fbf3a7pClfzV0jRcbBYlOqTFCwR+52lEHnCgkqm8JkLG47bg==\n`,
    );
    const acl = join(dir, 'legacy-acl');
    await writeFile(
      acl,
      'topic read anon/#\npattern read broadcast/%u\nuser seven\ntopic readwrite plant/#\ntopic deny plant/secret\ntopic bogus/#/x\nuser ghost\ntopic ghost/#\n',
    );

    const first = await importPasswd(ctx.devices, passwd, acl, undefined, { replaceCommon: true });
    expect(first.created).toBe(3);
    expect(first.problems.map((p) => `${p.file === acl ? 'acl' : 'passwd'}:${p.line}`)).toEqual([
      'acl:6',
      'passwd:3',
      'passwd:4',
      'passwd:5',
    ]);
    expect(first.notes.join('\n')).toMatch(/anonymous/);
    expect(first.notes.join('\n')).toMatch(/ghost/);
    expect(first.commonRules).toBe(1);

    const seven = await ctx.store.getUser('seven');
    expect(await verifyPassword('seven-pw', seven?.hash ?? '')).toBe('match');
    expect(seven?.acl).toEqual([
      { pattern: 'plant/#', access: 'readwrite' },
      { pattern: 'plant/secret', access: 'deny' },
    ]);
    const six = await ctx.store.getUser('six');
    expect(six?.hash.startsWith('$6$')).toBe(true);
    expect(await verifyPassword('six-pw', six?.hash ?? '')).toBe('match');
    expect(await ctx.store.getCommonAcl()).toEqual([{ pattern: 'broadcast/%u', access: 'read' }]);

    const again = await importPasswd(ctx.devices, passwd, acl);
    expect(again).toMatchObject({ created: 0, updated: 3 });
    expect(await ctx.store.countUsers()).toBe(3);
  });

  it('accepts argon2id lines (mosquitto_passwd 2.1 can write them)', async () => {
    const passwd = join(dir, 'passwd-argon2');
    await writeFile(passwd, `a2dev:${argon2Cli('a2-secret')}\n`);
    const report = await importPasswd(ctx.devices, passwd, undefined);
    expect(report.problems).toEqual([]);
    const rec = await ctx.store.getUser('a2dev');
    expect(await verifyPassword('a2-secret', rec?.hash ?? '')).toBe('match');
  });

  it('shows progress through the given reporter', async () => {
    const passwd = join(dir, 'progress');
    await mosquittoPasswd(passwd, 'p1', 'p1-password');
    const seen: string[] = [];
    await importPasswd(ctx.devices, passwd, undefined, {
      start: (n) => seen.push(`start ${n > 0}`),
      update: () => seen.push('update'),
      stop: () => seen.push('stop'),
    });
    expect(seen[0]).toBe('start true');
    expect(seen[seen.length - 1]).toBe('stop');
  });
});

describe('device and export commands', () => {
  it('adds, lists and exports', async () => {
    const d = await deviceAdd(ctx, { id: 'cli-1', acl: [parseRuleArg('cli/%u/#=readwrite')] });
    expect(d.password.length).toBeGreaterThanOrEqual(22);
    const page = await deviceList(ctx, { limit: 1000 });
    expect(page.devices.map((x) => x.id)).toContain('cli-1');
    expect(page.next).toBeNull();
    const status = await exportOnce(ctx);
    expect(status.lastError).toBeNull();
    expect(await readFile(join(dir, 'passwd'), 'utf8')).toMatch(/^cli-1:\$7\$/m);
    expect(await readFile(join(dir, 'acl'), 'utf8')).toContain(
      'user cli-1\ntopic readwrite cli/cli-1/#\n',
    );
  });

  it.each(['nope', 'a/#/b=read', '=read', 'a=all'])('rejects the rule argument %j', (arg) => {
    expect(() => parseRuleArg(arg)).toThrow(/PATTERN=/);
  });

  it('hash prints a line mosquitto_passwd would write', async () => {
    const line = await hashLine('hunter2-pw', { iterations: 101, saltBytes: 12 }, 'someone');
    expect(line).toMatch(/^someone:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(await verifyPassword('hunter2-pw', line.slice('someone:'.length))).toBe('match');
    await expect(hashLine('x', { iterations: 101, saltBytes: 12 }, 'bad:name')).rejects.toThrow(
      /":"/,
    );
  });
});

describe('decide', () => {
  it('explains an allowed and a denied access with the deciding rule', async () => {
    await deviceAdd(ctx, {
      id: 'cli-decide-1',
      acl: [parseRuleArg('plant/%u/#=write'), parseRuleArg('plant/%u/secret=deny')],
    });
    const allowed = await decide(ctx, {
      username: 'cli-decide-1',
      topic: 'plant/cli-decide-1/t',
      acc: parseAccArg('write'),
      clientid: 'c',
    });
    expect(formatDecision(allowed)).toBe(
      [
        'ALLOW: write (publish) on "plant/cli-decide-1/t" is granted by rule "plant/%u/#" (write)',
        'rule: own #1 plant/%u/# write (as plant/cli-decide-1/#)',
        'connect: possible: allowed with the right password',
      ].join('\n'),
    );
    const denied = await decide(ctx, {
      username: 'cli-decide-1',
      topic: 'plant/cli-decide-1/secret',
      acc: parseAccArg('2'),
      clientid: 'c',
    });
    expect(formatDecision(denied)).toMatch(/^DENY: deny rule "plant\/%u\/secret" matches/);
    expect(formatDecision(denied)).toContain('rule: own #2 plant/%u/secret deny');
  });

  it('reads --acc as a name or go-auth number and refuses anything else', () => {
    expect(['read', 'write', 'readwrite', 'subscribe', '1', '4'].map(parseAccArg)).toEqual([
      1, 2, 3, 4, 1, 4,
    ]);
    expect(() => parseAccArg('publish')).toThrow(/--acc "publish": expected read, write/);
    expect(() => parseAccArg('5')).toThrow(/--acc/);
  });
});

const BIN = join(__dirname, '../../dist/src/cli.js');
describe('the real binary (run `npm run build` first)', () => {
  beforeAll(() => requireBuilt(BIN));
  it('hash reads stdin and prints a verifiable $7$ line; bad config exits 2 with the variable named', async () => {
    const hashed = await runCommand(
      process.execPath,
      [BIN, 'hash', 'dev-x', '--iterations', '101'],
      {
        input: 'binary-password\n',
      },
    );
    expect(hashed.code).toBe(0);
    expect(hashed.stdout).toMatch(/^dev-x:\$7\$101\$/);
    expect(
      await verifyPassword('binary-password', hashed.stdout.trim().slice('dev-x:'.length)),
    ).toBe('match');
    const bad = await runCommand(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, PORT: 'x' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/PORT="x"/);
  });

  it('import-goauth reports FILE:LINE problems and exits 1', async () => {
    const file = join(dir, 'goauth-passwords');
    await writeFile(file, `bin1:${goAuthPbkdf2('p', { iterations: 1000 })}\nbin2:nope\n`);
    const env = {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: ctx.config.REDIS_KEY_PREFIX,
    };
    const res = await runCommand(process.execPath, [BIN, 'import-goauth', '--passwords', file], {
      env,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${file}:2: user "bin2": not a go-auth password hash`);
    expect(res.stdout).toMatch(/imported: 1 created/);
  });

  it('decide prints the decision and exits 0 when allowed, 3 when denied', async () => {
    await deviceAdd(ctx, { id: 'cli-bin-1', acl: [parseRuleArg('bin/%u=write')] });
    const env = {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: ctx.config.REDIS_KEY_PREFIX,
      LOG_LEVEL: 'silent',
    };
    const ok = await runCommand(
      process.execPath,
      [BIN, 'decide', 'cli-bin-1', 'bin/cli-bin-1', '--acc', 'write'],
      { env },
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ALLOW: .*rule "bin\/%u"/);
    const no = await runCommand(
      process.execPath,
      [BIN, 'decide', 'cli-bin-1', 'bin/other', '--acc', 'write'],
      { env },
    );
    expect(no.code).toBe(3);
    expect(no.stdout).toMatch(/^DENY: no rule grants write/);
  });

  it('serve with two Redis topologies exits 2 naming both', async () => {
    const bad = await runCommand(process.execPath, [BIN, 'serve'], {
      env: { PATH: process.env.PATH, REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'n:7000' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/REDIS_URL and REDIS_CLUSTER_NODES/);
  });
});
