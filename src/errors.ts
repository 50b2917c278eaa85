// Errors say *what* happened, as a stable code and a message; never an HTTP status. The API's
// error middleware maps codes to statuses (src/api/http-status.ts), the CLI to exit codes
// (src/cli/exit-codes.ts): one table each. Anything that is not an AppError is a bare 500
// (or exit 1) with the detail only in the log.

import { ZodError } from 'zod';

/** Every code an AppError may carry; the two tables are checked against this list. */
export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unsupported_media_type',
  'unauthorized',
  'cross_site_refused',
  'too_many_rules',
  'not_found',
  'conflict',
  'damaged_record',
  'export_failed',
  'export_not_configured',
  'reload_failed',
  'broker_died',
  'store_unavailable',
  'write_unconfirmed',
  'write_outcome_unknown',
  'idempotency_key_reused',
  'idempotency_in_flight',
  'overloaded',
  'console_not_built',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new AppError('bad_request', message, details);
export const validationError = (message: string, details?: unknown) =>
  new AppError('validation_failed', message, details);
export const unsupportedMediaType = (message: string) =>
  new AppError('unsupported_media_type', message);
export const unauthorized = (message: string) => new AppError('unauthorized', message);
export const notFound = (message: string) => new AppError('not_found', message);
export const conflict = (message: string) => new AppError('conflict', message);
export const exportFailed = (why: string) =>
  new AppError('export_failed', `the export failed: ${why}; it will be retried`);
export const exportNotConfigured = () =>
  new AppError(
    'export_not_configured',
    'the export is off: set PASSWD_FILE and/or ACL_FILE (and MOSQUITTO_RELOAD to reload the ' +
      'broker) in the service environment and restart it',
  );
export const damagedRecord = (message: string) => new AppError('damaged_record', message);
export const consoleNotBuilt = (message: string) => new AppError('console_not_built', message);
export const storeUnavailable = (why?: string) =>
  new AppError(
    'store_unavailable',
    why
      ? `the credential store (Redis) refused the command: ${why}; retry later`
      : 'the credential store (Redis) is unreachable; retry',
  );

/**
 * Raised by the store when Redis cannot be reached, did not answer in time, or answered with
 * an error reply (OOM, READONLY, LOADING, …). `reply` is that reply's text: the first line
 * only, never the command or its arguments (an ioredis error carries those: hashes).
 */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  readonly reply: string | null;
  constructor(cause: unknown) {
    const reply = redisReplyText(cause);
    super(`store unavailable: ${reply ?? (cause as Error)?.message ?? String(cause)}`);
    this.reply = reply;
  }
}

/** The text of a Redis error reply (`OOM command not allowed…`), or null for other errors. */
export function redisReplyText(err: unknown): string | null {
  const e = err as { name?: string; message?: unknown } | null;
  if (!e || e.name !== 'ReplyError' || typeof e.message !== 'string') return null;
  return (e.message.split('\n')[0] ?? '').slice(0, 200);
}

/** Any error that comes from talking to Redis (a reply, a timeout, a closed connection). */
export function isRedisError(err: unknown): boolean {
  const e = err as { name?: string; message?: unknown } | null;
  if (!e || typeof e.message !== 'string') return false;
  return (
    e.name === 'ReplyError' ||
    e.name === 'MaxRetriesPerRequestError' ||
    /^(Connection is closed|Command timed out|Stream isn't writeable)/.test(e.message)
  );
}

/** More work queued than the service accepts (slow password hashes): retry later. */
export class OverloadedError extends Error {
  readonly code = 'overloaded';
}

/**
 * The write reached the Redis primary, but not REDIS_MIN_REPLICAS_ACK replicas within
 * REDIS_WAIT_TIMEOUT_MS: it is applied there and may or may not survive a failover. `applied`
 * is what the call would have returned (an idempotent retry replays it once confirmed).
 */
export class WriteUnconfirmedError extends AppError {
  applied?: unknown;
}
export const writeUnconfirmed = (acked: number, wanted: number, waitMs: number) =>
  new WriteUnconfirmedError(
    'write_unconfirmed',
    `applied on the primary, not yet confirmed by a replica (${acked} of ${wanted} within ` +
      `${waitMs} ms); retry with the same Idempotency-Key to get the same answer once confirmed`,
  );

/** A write was sent but its answer was lost (connection dropped, timeout): it may have applied. */
export const writeOutcomeUnknown = (why: string) =>
  new WriteUnconfirmedError(
    'write_outcome_unknown',
    `the write may or may not have been applied (${why}); retry with the same ` +
      'Idempotency-Key, or re-read the device',
  );

export const idempotencyKeyInvalid = (why: string) =>
  new AppError('bad_request', `Idempotency-Key: ${why}`, { field: 'Idempotency-Key' });
export const idempotencyKeyReused = () =>
  new AppError(
    'idempotency_key_reused',
    'Idempotency-Key was used for a different request (method, path, body or admin token)',
  );
export const idempotencyInFlight = () =>
  new AppError(
    'idempotency_in_flight',
    'a request with this Idempotency-Key is still being processed; retry in a second',
  );

/**
 * Whether nothing is known to have happened and the same call may simply run again (the
 * store, a replica or the hashing was not available): an unknown error, or one of these codes.
 * Anything else is an outcome (refused, conflict, …) that a retry would only repeat.
 */
export function retryable(err: unknown): boolean {
  if (err instanceof ZodError) return false; // invalid input stays invalid
  return !(err instanceof AppError) || RETRYABLE.has(err.code);
}
const RETRYABLE = new Set<ErrorCode>([
  'export_failed',
  'reload_failed',
  'broker_died',
  'store_unavailable',
  'write_unconfirmed',
  'write_outcome_unknown',
  'overloaded',
  'console_not_built',
]);

/** MOSQUITTO_RELOAD could not be carried out (the files were written before it was tried). */
export const reloadFailed = (why: string) => new AppError('reload_failed', why);

/** The broker quit after the reload signal (the files were written; it refused them or its config). */
export const brokerDied = (message: string) => new AppError('broker_died', message);

/** A browser request from another site to a management or console route. */
export const crossSiteRefused = (why: string) =>
  new AppError('cross_site_refused', `cross-site request refused: ${why}`);
