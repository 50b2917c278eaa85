import pino, { type Logger } from 'pino';
import { redactSecrets } from './redact';

export type { Logger };

/**
 * An error as a log line may show it: type, message, code, stack, all with secrets removed.
 * Not the rest: an ioredis error carries `command.args` (a `$7$` hash, a whole record).
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: redactSecrets(String(err)) };
  const e = err as Error & { code?: unknown; command?: { name?: unknown } };
  return {
    type: e.name,
    message: redactSecrets(e.message),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.command?.name === 'string' ? { command: e.command.name } : {}),
    ...(e.stack ? { stack: redactSecrets(e.stack) } : {}),
  };
}

/** Every string in a log object (any depth) with secrets removed; errors serialized. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof Error) return serializeError(value);
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
    serializers: { err: serializeError, error: serializeError },
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
