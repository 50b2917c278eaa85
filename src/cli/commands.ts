// The CLI's commands as functions over the app context, so they are tested without a
// process. cli.ts only parses arguments and prints.
import type { Config } from '../config';
import type { AppContext } from '../context';
import { checkUsername, type NewDevice } from '../devices/device-service';
import {
  ACC_EXPECTED,
  ACC_WORDS,
  isAcc,
  type Acc,
  type AccWord,
  type AclRule,
} from '../domain/acl';
import { explainDecision, type DecideAnswer, type DecideInput } from '../checks/explain-decision';
import { SALT_BYTES } from '../domain/mosquitto-rules';
import { hashPassword } from '../domain/passwd-hash';
import { createExporter } from '../main';
import { aclRuleInput, listQuery } from '../contract/devices';
import { badRequest, brokerDied } from '../errors';

/** `pattern=access` (e.g. `devices/%u/#=readwrite`) → a validated rule. */
export function parseRuleArg(arg: string): AclRule {
  const at = arg.lastIndexOf('=');
  const parsed = aclRuleInput.safeParse({ pattern: arg.slice(0, at), access: arg.slice(at + 1) });
  if (at <= 0 || !parsed.success) {
    throw badRequest(
      `--acl "${arg}": expected PATTERN=read|write|readwrite|deny with a valid topic filter`,
    );
  }
  return parsed.data;
}

export async function deviceAdd(ctx: AppContext, input: NewDevice) {
  const { device, password } = await ctx.devices.create(input);
  return { ...device, password };
}

/** One page of `GET /api/v1/devices`, in the API's shape: `{devices, next}`; pass `next` back as
 * `cursor` for the following page (`next: null` on the last). */
export async function deviceList(
  ctx: AppContext,
  opts: { limit: number; cursor?: string; prefix?: string },
) {
  const parsed = listQuery.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(`--${String(issue?.path[0] ?? 'limit')}: ${issue?.message ?? 'invalid'}`);
  }
  return ctx.devices.list(parsed.data);
}

/** `export` has somewhere to write, or an error saying what to set (checked before connecting). */
export function requireExportTarget(config: Pick<Config, 'PASSWD_FILE' | 'ACL_FILE'>): void {
  if (!config.PASSWD_FILE && !config.ACL_FILE) {
    throw badRequest(
      'nothing to export: set PASSWD_FILE and/or ACL_FILE (the files the broker reads as ' +
        'password_file and acl_file), and MOSQUITTO_RELOAD to have it reloaded',
    );
  }
}

export async function exportOnce(ctx: AppContext) {
  requireExportTarget(ctx.config);
  const exporter = createExporter(ctx);
  await exporter.run(true);
  exporter.cancel();
  if (exporter.status.lastError) throw new Error(`export failed: ${exporter.status.lastError}`);
  if (exporter.status.reload.state === 'broker-died')
    throw brokerDied(exporter.status.reload.message ?? 'the broker quit after the reload');
  return exporter.status;
}

/** `mosquitto_passwd`-style: `user:$7$…` when a user is given, the bare hash otherwise. */
export async function hashLine(
  password: string,
  opts: { iterations: number; saltBytes: number },
  username?: string,
) {
  if (username) checkUsername(username, 'username');
  if (!SALT_BYTES.includes(opts.saltBytes as 12 | 64))
    throw badRequest('--salt-bytes must be 12 or 64 (the salt sizes Mosquitto 2.1 reads)');
  const hash = await hashPassword(password, opts);
  return username ? `${username}:${hash}` : hash;
}

/** `--acc`: read, write, readwrite, subscribe, or go-auth's number 1-4. */
export function parseAccArg(arg: string): Acc {
  const n = Object.hasOwn(ACC_WORDS, arg) ? ACC_WORDS[arg as AccWord] : Number(arg);
  if (!isAcc(n)) throw badRequest(`--acc "${arg}": ${ACC_EXPECTED}`);
  return n;
}

/** What the broker would decide for this user, topic and client id, and why. */
export function decide(ctx: AppContext, input: DecideInput) {
  return explainDecision(ctx.store, ctx.throttle, input);
}

/** The decision as a few lines for a terminal. */
export function formatDecision(a: DecideAnswer): string {
  const lines = [`${a.allow ? 'ALLOW' : 'DENY'}: ${a.reason}`];
  if (a.rule) {
    lines.push(
      `rule: ${a.source} #${a.rule.index + 1} ${a.rule.pattern} ${a.rule.access}` +
        (a.rule.resolved && a.rule.resolved !== a.rule.pattern ? ` (as ${a.rule.resolved})` : ''),
    );
  }
  lines.push(`connect: ${a.connect.allow ? 'possible' : 'refused'}: ${a.connect.reason}`);
  return lines.join('\n');
}

/** `store-ack`: the operator has seen the store's loss of data (a new marker; /readyz clears). */
export async function storeAck(ctx: AppContext): Promise<string> {
  const { before } = await ctx.marker.acknowledge();
  return before === null
    ? 'store acknowledged: a new marker written (there was none: the store had lost its data, or was new)'
    : 'store acknowledged: a new marker written (the old one was still there)';
}
