// Every CLI command through the real binary: stdout is only the command's result (JSON ones
// parse as exactly one document, so `| jq` works), log lines go to stderr, and nothing is said
// that is not true (no "Redis unreachable" while it is up, no change-feed subscription).
import { requireBuilt } from '../support/built';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCommand, testPrefix, type CommandResult } from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

const prefix = testPrefix('cli-output');
let dir = '';
const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
  PASSWD_ITERATIONS: '101',
  LOG_LEVEL: 'info', // so that log lines exist, and the test sees where they go
  ...extra,
});
const cli = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  runCommand(process.execPath, [CLI, ...args], { input: opts.input, env: env(opts.env) });

/** Nothing on stderr claims Redis is down or the change feed failed. */
function noFalseAlarms(r: CommandResult): void {
  expect(r.stderr).not.toMatch(/unreachable|could not subscribe|Stream isn't writeable/);
}
function json<T = unknown>(r: CommandResult): T {
  expect(r.stdout.endsWith('\n')).toBe(true);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authd-cli-out-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await cleanTestPrefix(prefix);
});

describe('the real binary (run `npm run build` first)', () => {
  beforeAll(() => requireBuilt(CLI));
  it('token prints one NAME:TOKEN line and nothing else, without Redis', async () => {
    const r = await runCommand(process.execPath, [CLI, 'token', 'alice'], {
      env: { PATH: process.env.PATH, REDIS_URL: 'redis://127.0.0.1:1' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^alice:[A-Za-z0-9_-]{32}\n$/);
    expect(r.stderr).toBe('');
    const other = await cli(['token']);
    expect(other.stdout).toMatch(/^ops:/);
    expect(other.stdout).not.toBe(r.stdout.replace('alice', 'ops'));
    expect((await cli(['token', 'a:b'])).code).toBe(1);
  });

  it('device add, list, rotate, decide --json, remove: stdout is the result, logs on stderr', async () => {
    const add = await cli(['device', 'add', '--id', 'out-1', '--acl', 'out/%u/#=readwrite']);
    expect(add.code).toBe(0);
    const device = json<{ id: string; password: string }>(add);
    expect(device.id).toBe('out-1');
    expect(device.password.length).toBeGreaterThanOrEqual(16);
    // The audit line is a log line: on stderr, never before the result on stdout.
    expect(add.stderr).toMatch(/"name":"authd:audit"/);
    expect(add.stderr).not.toContain(device.password);
    noFalseAlarms(add);

    const add2 = await cli(['device', 'add', '--id', 'out-2']);
    expect(add2.code).toBe(0);
    // The API's shape, {devices, next}, one page; `next` goes back in as --cursor.
    type Page = { devices: { id: string }[]; next: string | null };
    const list = await cli(['device', 'list']);
    expect(Object.keys(json(list)).sort()).toEqual(['devices', 'next']);
    expect(json<Page>(list).devices.map((d) => d.id)).toEqual(['out-1', 'out-2']);
    expect(json<Page>(list).next).toBeNull();
    noFalseAlarms(list);
    const first = json<Page>(await cli(['device', 'list', '--limit', '1']));
    expect(first.devices.map((d) => d.id)).toEqual(['out-1']);
    expect(typeof first.next).toBe('string');
    const second = json<Page>(
      await cli(['device', 'list', '--limit', '1', '--cursor', first.next as string]),
    );
    expect(second.devices.map((d) => d.id)).toEqual(['out-2']);
    expect(json<Page>(await cli(['device', 'list', '--prefix', 'out-2'])).devices).toHaveLength(1);
    const tooMany = await cli(['device', 'list', '--limit', '1001']);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toMatch(/--limit/);
    expect(await cli(['device', 'remove', 'out-2'])).toMatchObject({ code: 0 });

    const rotate = await cli(['device', 'rotate', 'out-1']);
    expect(Object.keys(json(rotate)).sort()).toEqual(['id', 'password']);
    noFalseAlarms(rotate);

    const allowed = await cli(['decide', 'out-1', 'out/out-1/t', '--acc', 'write', '--json']);
    expect(allowed.code).toBe(0);
    expect(json<{ allow: boolean }>(allowed).allow).toBe(true);
    expect(allowed.stderr).toBe(''); // decide changes nothing: no audit, no feed, no warning
    const denied = await cli(['decide', 'out-1', 'elsewhere', '--acc', 'subscribe', '--json']);
    expect(denied.code).toBe(3);
    expect(json<{ allow: boolean }>(denied).allow).toBe(false);
    const text = await cli(['decide', 'out-1', 'elsewhere', '--acc', 'read']);
    expect(text.stdout).toMatch(/^DENY: /);
    expect(text.stderr).toBe('');

    const remove = await cli(['device', 'remove', 'out-1']);
    expect(remove.stdout).toBe('removed out-1\n');
    noFalseAlarms(remove);
  }, 90_000); // runs of the real binary, each a node start: a busy machine needs more than 30 s

  it('hash prints the hash line only', async () => {
    const r = await cli(['hash', 'u1', '--iterations', '101'], { input: 'a-password\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^u1:\$7\$101\$\S+\n$/);
  });

  it('export without PASSWD_FILE/ACL_FILE says what to set, before connecting anywhere', async () => {
    const r = await runCommand(process.execPath, [CLI, 'export'], {
      // An address nothing listens on: the command must not even try.
      env: { PATH: process.env.PATH, REDIS_URL: 'redis://127.0.0.1:1' },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'mqtt-authd: nothing to export: set PASSWD_FILE and/or ACL_FILE (the files the broker ' +
        'reads as password_file and acl_file), and MOSQUITTO_RELOAD to have it reloaded\n',
    );
  });

  it('export prints the status as one JSON document', async () => {
    await cli(['device', 'add', '--id', 'out-2']);
    const passwd = join(dir, 'passwd');
    const r = await cli(['export'], {
      env: { PASSWD_FILE: passwd, ACL_FILE: join(dir, 'acl') },
    });
    expect(r.code).toBe(0);
    const status = json<{ enabled: boolean; users: number }>(r);
    expect(status).toMatchObject({ enabled: true, users: 1 });
    expect(await readFile(passwd, 'utf8')).toMatch(/^out-2:\$7\$/m);
    noFalseAlarms(r);
  });

  it('import-passwd, import-goauth, migrate-store: the summary line on stdout, problems on stderr', async () => {
    const passwd = join(dir, 'import-passwd');
    await writeFile(passwd, 'imp-1:$7$101$c2FsdHNhbHRzYWx0$' + 'A'.repeat(86) + '==\nbad line\n');
    const imp = await cli(['import-passwd', passwd]);
    expect(imp.stdout).toMatch(/^imported: \d+ created, .* problems\n$/);
    expect(imp.stderr).toContain(`${passwd}:2:`);
    noFalseAlarms(imp);

    const goauth = join(dir, 'goauth');
    await writeFile(goauth, 'g1:nope\n');
    const go = await cli(['import-goauth', '--passwords', goauth, '--dry-run']);
    expect(go.stdout.trim().split('\n').pop()).toMatch(/^dry run, would import: /);
    expect(go.stdout).not.toMatch(/"level"/);
    expect(go.stderr).toContain(`${goauth}:1:`);
    noFalseAlarms(go);

    const mig = await cli(['migrate-store']);
    expect(mig.code).toBe(0);
    expect(mig.stdout).toMatch(/^migrated: .*\n$/);
    noFalseAlarms(mig);
  });
});
