import pino, { type Logger } from 'pino';
import { redisReplyText } from './errors';
import { redactSecrets } from './redact';

export type { Logger };

/**
 * An error as a log line may show it: type, message, code, the Redis reply, stack, cause, all
 * with secrets removed. Not the rest: an ioredis error carries `command.args` (a `$7$` hash, a
 * whole record). Idempotent and total: pino may hand it what scrub() already serialized, and a
 * thrown value need not be an Error — so it never falls back to String(obj) ("[object Object]").
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  if (err === null || typeof err !== 'object') return { message: redactSecrets(String(err)) };
  const e = err as {
    name?: unknown;
    type?: unknown;
    message?: unknown;
    code?: unknown;
    reply?: unknown;
    command?: unknown;
    stack?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const str = (v: unknown) => (typeof v === 'string' ? redactSecrets(v) : undefined);
  const type = str(e.name) ?? str(e.type) ?? (err instanceof Error ? 'Error' : undefined);
  const command =
    typeof e.command === 'string'
      ? e.command
      : typeof (e.command as { name?: unknown } | undefined)?.name === 'string'
        ? (e.command as { name: string }).name
        : undefined;
  const reply = str(e.reply) ?? redisReplyText(err) ?? undefined;
  const out: Record<string, unknown> = {
    ...(type ? { type } : {}),
    message: str(e.message) ?? '',
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(reply ? { reply } : {}),
    ...(command ? { command } : {}),
    ...(typeof e.stack === 'string' ? { stack: redactSecrets(e.stack) } : {}),
  };
  if (depth < 3 && e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
  if (depth < 3 && Array.isArray(e.errors))
    out.errors = e.errors.slice(0, 10).map((x) => serializeError(x, depth + 1));
  return out;
}

/** Every string in a log object (any depth) with secrets removed; errors serialized. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof Error) return serializeError(value);
  if (depth === 0 && value !== null && typeof value === 'object') {
    // err / error keys hold errors whatever their shape (a thrown plain object too).
    const o = value as Record<string, unknown>;
    if ('err' in o || 'error' in o) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o))
        out[k] = k === 'err' || k === 'error' ? serializeError(v) : scrub(v, depth + 1);
      return out;
    }
  }
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
  return out;
}

/** The root logger (pid, hostname); subsystems take `logger.child({ name: 'authd:<subsystem>' })`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    // Defence in depth: these keys never reach a log line, whatever a caller passes.
    redact: {
      paths: [
        'password',
        '*.password',
        'hash',
        '*.hash',
        'token',
        '*.token',
        'req.headers.authorization',
        '*.command.args',
        '*.*.command.args',
        'command.args',
        'args',
        '*.args',
      ],
      censor: '[redacted]',
    },
    serializers: {
      err: (e: unknown) => serializeError(e),
      error: (e: unknown) => serializeError(e),
    },
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
    hooks: {
      // Every message string, whatever a caller interpolated into it.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const a = args[i] as unknown;
          if (typeof a === 'string') (args as unknown[])[i] = redactSecrets(a);
        }
        method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
