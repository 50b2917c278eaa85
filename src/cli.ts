#!/usr/bin/env node
// The `mqtt-authd` command: parses arguments, calls the functions in cli/, prints.
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { SingleBar, Presets } from 'cli-progress';
import { readConfig } from './config';
import { EXIT_DENIED, exitCodeOf } from './cli/exit-codes';
import { createContext, type AppContext } from './context';
import { printable } from './domain/printable';
import { redactSecrets } from './redact';
import { attachAudit } from './main';
import { readSecret } from './cli/read-secret';
import {
  decide,
  deviceAdd,
  deviceList,
  exportOnce,
  formatDecision,
  hashLine,
  parseAccArg,
  parseRuleArg,
  requireExportTarget,
} from './cli/commands';
import { serve } from './cli/serve';
import { disconnectDevice, listSessions } from './devices/sessions';
import type { Change } from './devices/device-service';
import { badRequest } from './errors';
import { tokenLine } from './cli/admin-token';
import { createLogger } from './logger';
import { importPasswd, type Progress } from './cli/import-passwd';
import { idempotentCli } from './cli/idempotent';
import { importGoAuth, type ImportGoAuthArgs } from './cli/import-goauth';

function print(v: unknown): void {
  process.stdout.write(typeof v === 'string' ? `${v}\n` : `${JSON.stringify(v, null, 2)}\n`);
}

/** Who the audit trail names for CLI changes: `cli:<login name>`. */
function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? '?'}`;
  }
}

/** Runs `fn` with a connected context (as actor `cli:<user>`, audited), then closes it. */
async function withContext<T>(
  fn: (ctx: AppContext, audit: ReturnType<typeof attachAudit>) => Promise<T>,
): Promise<T> {
  const config = readConfig();
  // Results go to stdout; the log (audit lines, Redis outages) to stderr, so `| jq` works.
  const logger = createLogger(config.LOG_LEVEL, pino.destination({ dest: 2, sync: true }));
  const ctx = createContext(config, { adminTokens: [], logger, changeFeed: false });
  try {
    await ctx.health.ready(5000).catch(() => {
      throw new Error(
        `cannot reach Redis at ${ctx.health.where} (set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)`,
      );
    });
    const audit = attachAudit(ctx);
    return await fn({ ...ctx, devices: ctx.devices.as(cliActor()) }, audit);
  } finally {
    await ctx.close();
  }
}

function progressBar(label = 'import'): Progress | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {eta}s left` },
    Presets.shades_classic,
  );
  return { start: (n) => bar.start(n, 0), update: (n) => bar.update(n), stop: () => bar.stop() };
}

/** A bar on a terminal; otherwise a line per 10 % (logs of a job runner). */
function migrateProgress(): Progress {
  const bar = progressBar('migrate-store');
  if (bar) return bar;
  let total = 0;
  let shown = -1;
  return {
    start: (n) => {
      total = n;
      process.stderr.write(`migrate-store: ${n} devices in the old layout\n`);
    },
    update: (n) => {
      const tenth = total ? Math.floor((10 * n) / total) : 10;
      if (tenth === shown) return;
      shown = tenth;
      process.stderr.write(`migrate-store: ${n}/${total}\n`);
    },
    stop: () => undefined,
  };
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];
const IDEMPOTENCY_HELP =
  'a random key (a UUID) for this change: run again with the same key after a timeout, get ' +
  'the first run’s output (kept 24 h, encrypted)';

export function buildProgram(): Command {
  const program = new Command('mqtt-authd')
    .description(
      'Redis-backed authentication and ACL service for Mosquitto: answers its own Mosquitto ' +
        'plugin (cached answers, pushed revocation), the mosquitto-go-auth HTTP backend, and ' +
        'exports passwd/acl files as a fallback; devices managed by API, console or this CLI',
    )
    .showHelpAfterError();
  program
    .command('serve')
    .description('run the HTTP service: broker checks, management API, export')
    .action(serve);
  program
    .command('export')
    .description('write PASSWD_FILE and ACL_FILE from Redis once, reload the broker, exit')
    .action(() => {
      requireExportTarget(readConfig()); // before connecting: nothing to export, nothing to ask
      return withContext(async (ctx) => print(await exportOnce(ctx)));
    });
  program
    .command('import-passwd')
    .argument('<file>', 'a Mosquitto passwd file ($7$ and $6$ hashes are kept as they are)')
    .option('--acl <file>', 'a Mosquitto acl_file: user topic rules and pattern rules')
    .option('--replace-common', "let the acl file's pattern lines replace the common rules")
    .description('import users (idempotent); bad lines are reported with their number and skipped')
    .action((file: string, opts: { acl?: string; replaceCommon?: boolean }) =>
      withContext(async (ctx) => {
        const report = await importPasswd(ctx.devices, file, opts.acl, progressBar(), {
          replaceCommon: opts.replaceCommon,
          maxIterations: ctx.config.PASSWD_MAX_ITERATIONS,
        });
        for (const p of report.problems)
          process.stderr.write(`${p.file}:${p.line}: ${printable(p.message, 2000)}\n`);
        for (const n of report.notes) process.stderr.write(`note: ${printable(n, 2000)}\n`);
        print(
          `imported: ${report.created} created, ${report.updated} updated, ${report.commonRules} common rules, ${report.problems.length} problems`,
        );
        if (report.problems.length) process.exitCode = 1;
      }),
    );
  program
    .command('import-goauth')
    .option(
      '--redis <url>',
      "mosquitto-go-auth's Redis (its db in the path: go-auth's default is redis://HOST:6379/1)",
    )
    .option(
      '--passwords <file>',
      "mosquitto-go-auth's files backend passwords file (user:hash lines)",
    )
    .option('--acl <file>', 'with --passwords: its acl file (user, topic, pattern lines)')
    .option(
      '--salt-encoding <enc>',
      'PBKDF2 salts as go-auth wrote them: base64 or utf-8 (auth_opt_hasher_salt_encoding)',
      'base64',
    )
    .option(
      '--replace-common',
      "replace this service's common rules with go-auth's when they differ",
    )
    .option(
      '--disable-superuser',
      'go-auth ran with auth_opt_disable_superuser / auth_opt_redis_disable_superuser: import no superusers',
    )
    .option('--dry-run', 'print what would change; write nothing')
    .description(
      "import devices from mosquitto-go-auth's Redis or files backend (idempotent); passwords keep working and become $7$ at the next login",
    )
    .action((o: ImportGoAuthArgs) =>
      withContext(async (ctx) => {
        // The bulk client's 30 s command timeout: a long import on a busy Redis must not fail
        // on the 1 s bound meant for broker checks.
        const devices = ctx.devices.withStore(ctx.bulkStore);
        const report = await importGoAuth({ ...ctx, devices }, o, {
          progress: progressBar(),
          print: (line) => print(line),
        });
        for (const p of report.problems)
          process.stderr.write(`${printable(p.where)}: ${printable(p.message, 2000)}\n`);
        for (const n of report.notes) process.stderr.write(`note: ${printable(n, 2000)}\n`);
        const common =
          report.commonRules === null
            ? 'common rules unchanged'
            : `${report.commonRules} common rules`;
        print(
          `${o.dryRun ? 'dry run, would import' : 'imported'}: ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged, ${common}, ${report.keptHashes} kept their $7$ hash, ${report.problems.length} problems`,
        );
        if (report.problems.length) process.exitCode = 1;
      }),
    );
  program
    .command('migrate-store')
    .description(
      'move devices stored by an earlier version into the current key layout ' +
        '(idempotent, resumable: run it again after an interruption)',
    )
    .action(() =>
      withContext(async (ctx) => {
        const r = await ctx.health.migrate(migrateProgress());
        print(
          `migrated: ${r.copied} copied, ${r.kept} already in the new layout (kept), ` +
            `${r.dangling} dangling index entries dropped, common rules ${r.commonAcl}`,
        );
      }),
    );
  const device = program.command('device').description('manage devices directly in Redis');
  device
    .command('add')
    .option('--id <id>', 'device id / username (generated if omitted)')
    .option('--password-stdin', 'read the password from stdin (generated if omitted)')
    .option('--superuser', 'the device may do anything')
    .option('--acl <pattern=access>', 'an own ACL rule; repeatable', collect, [])
    .option('--client-id <id>', 'allowed client id (%u = username); repeatable', collect, [])
    .option('--idempotency-key <key>', IDEMPOTENCY_HELP)
    .description('register a device; prints it with its password (shown this once)')
    .action(
      (o: {
        id?: string;
        passwordStdin?: boolean;
        superuser?: boolean;
        acl: string[];
        clientId: string[];
        idempotencyKey?: string;
      }) =>
        withContext(async (ctx) => {
          const password = o.passwordStdin ? await readSecret('password: ') : undefined;
          const input = {
            id: o.id,
            password,
            superuser: o.superuser,
            acl: o.acl.map(parseRuleArg),
            clientIds: o.clientId,
          };
          const run = () => deviceAdd(ctx, input);
          const parts = ['device add', JSON.stringify(input)];
          print(await idempotentCli(ctx, o.idempotencyKey, parts, run, (d) => d));
        }),
    );
  device
    .command('remove')
    .argument('<id>')
    .option('--idempotency-key <key>', IDEMPOTENCY_HELP)
    .description('delete a device')
    .action((id: string, o: { idempotencyKey?: string }) =>
      withContext(async (ctx) => {
        const run = () => ctx.devices.remove(id);
        await idempotentCli(ctx, o.idempotencyKey, ['device remove', id], run, () => ({ id }));
        print(`removed ${id}`);
      }),
    );
  device
    .command('rotate')
    .argument('<id>')
    .option('--password-stdin', 'read the new password from stdin (generated if omitted)')
    .option('--idempotency-key <key>', IDEMPOTENCY_HELP)
    .description('set a new password (printed once); the old one is refused from then on')
    .action((id: string, o: { passwordStdin?: boolean; idempotencyKey?: string }) =>
      withContext(async (ctx) => {
        const password = o.passwordStdin ? await readSecret('new password: ') : undefined;
        const run = () => ctx.devices.rotate(id, password);
        const parts = ['device rotate', id, password ?? ''];
        const shown = (r: { device: { updatedAt: string }; password: string }) => ({
          id,
          password: r.password,
          updatedAt: r.device.updatedAt,
        });
        const out = await idempotentCli(ctx, o.idempotencyKey, parts, run, shown);
        const { updatedAt: _u, ...printed } = out as Record<string, unknown>;
        print(printed);
      }),
    );
  device
    .command('list')
    .option('--limit <n>', 'at most this many on the page (1-1000)', positiveInt, 100)
    .option('--cursor <next>', 'the `next` of the previous page: the page after it')
    .option('--prefix <p>', 'only ids starting with this')
    .description(
      'list devices in id order, one page as JSON {devices, next} like GET /api/v1/devices; ' +
        'next is null on the last page, else pass it to --cursor',
    )
    .action((o: { limit: number; cursor?: string; prefix?: string }) =>
      withContext(async (ctx) => print(await deviceList(ctx, o))),
    );
  device
    .command('disconnect')
    .argument('<id>')
    .description(
      'end every session of the device on every broker with the mqtt-authd plugin, without ' +
        'revoking it (audited as `disconnect`); prints how many sessions were asked to close',
    )
    .action((id: string) =>
      withContext(async (ctx, audit) => {
        const record = (change: Change) => audit.record(change, { required: true });
        print(await disconnectDevice(ctx, record, cliActor(), id));
      }),
    );
  program
    .command('sessions')
    .option('--username <name>', 'only this device')
    .option('--broker <id>', 'only this broker (its plugin_opt_broker_id)')
    .option('--limit <n>', 'at most this many on the page (1-1000)', positiveInt, 100)
    .option('--cursor <next>', 'the `next` of the previous page: the page after it')
    .description(
      'sessions the brokers report, one page as JSON {sessions, next} like GET /api/v1/sessions',
    )
    .action((o: { username?: string; broker?: string; limit: number; cursor?: string }) =>
      withContext(async (ctx) => {
        if (o.limit > 1000) throw badRequest('--limit: at most 1000');
        print(await listSessions(ctx.presence, o));
      }),
    );
  program
    .command('lockout-clear')
    .option('--username <name>', 'the user name whose lockout to clear (any name, even "..")')
    .option('--clientid <id>', 'the client id whose lockout to clear')
    .description('clear the failed-login count and lockout of a user name or client id')
    .action((o: { username?: string; clientid?: string }) =>
      withContext(async (ctx, audit) => {
        if ((o.username === undefined) === (o.clientid === undefined))
          throw new Error('give exactly one of --username or --clientid');
        const kind = o.username !== undefined ? 'username' : 'clientid';
        const name = (o.username ?? o.clientid) as string;
        const before = await ctx.throttle.state(kind, name);
        const was = await ctx.throttle.clear(kind, name);
        const target = `${kind}:${name}`;
        const change = {
          actor: cliActor(),
          action: 'clear-lockout' as const,
          target,
          before,
          after: null,
        };
        await audit.record(change, { required: true });
        print(was ? `cleared the lockout of ${kind} ${JSON.stringify(name)}` : `nothing to clear`);
      }),
    );
  program
    .command('decide')
    .argument('<username>')
    .argument('<topic>', 'a topic (read, write) or a subscription filter (subscribe)')
    .requiredOption('--acc <acc>', 'read, write, readwrite, subscribe (or go-auth 1-4)')
    .option('--client-id <id>', 'the client id the device connects with', '')
    .option('--json', 'print the whole answer as JSON')
    .description('explain what the broker would decide now, and which rule decided')
    .action(
      (username: string, topic: string, o: { acc: string; clientId: string; json?: boolean }) =>
        withContext(async (ctx) => {
          const acc = parseAccArg(o.acc);
          const answer = await decide(ctx, { username, topic, acc, clientid: o.clientId });
          print(o.json ? answer : formatDecision(answer));
          if (!answer.allow) process.exitCode = EXIT_DENIED;
        }),
    );
  program
    .command('token')
    .argument('[name]', 'who the audit trail names for changes made with it', 'ops')
    .description(
      'print a new random admin token as NAME:TOKEN, for ADMIN_TOKENS or a line of ADMIN_TOKEN_FILE',
    )
    .action((name: string) => print(tokenLine(name)));
  program
    .command('hash')
    .argument('[username]', 'print USERNAME:HASH like a passwd line')
    .option('--iterations <n>', 'PBKDF2 iterations (default PASSWD_ITERATIONS)', positiveInt)
    .option('--salt-bytes <n>', 'salt length, 12 or 64 (default PASSWD_SALT_BYTES)', positiveInt)
    .description('read a password from stdin, print a $7$ hash as mosquitto_passwd writes it')
    .action(
      async (username: string | undefined, o: { iterations?: number; saltBytes?: number }) => {
        const config = readConfig();
        const password = await readSecret('password: ');
        print(
          await hashLine(
            password,
            {
              iterations: o.iterations ?? config.PASSWD_ITERATIONS,
              saltBytes: o.saltBytes ?? config.PASSWD_SALT_BYTES,
            },
            username,
          ),
        );
      },
    );
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      const code = exitCodeOf(err);
      process.stderr.write(`mqtt-authd: ${redactSecrets((err as Error).message ?? String(err))}\n`);
      process.exit(code);
    });
}
