// Known errors carry an HTTP status and a stable code; the error middleware renders them as
// {"error":{"code","message"}}. Anything else is a bare 500 with the detail only in the log.
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new AppError(400, 'bad_request', message, details);
export const validationError = (message: string, details?: unknown) =>
  new AppError(400, 'validation_failed', message, details);
export const unauthorized = (message: string) => new AppError(401, 'unauthorized', message);
export const notFound = (message: string) => new AppError(404, 'not_found', message);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const exportFailed = (why: string) =>
  new AppError(503, 'export_failed', `the export failed: ${why}; it will be retried`);
export const exportNotConfigured = () =>
  new AppError(
    409,
    'export_not_configured',
    'the export is off: set PASSWD_FILE and/or ACL_FILE (and MOSQUITTO_RELOAD to reload the ' +
      'broker) in the service environment and restart it',
  );
export const damagedRecord = (message: string) => new AppError(409, 'damaged_record', message);
export const storeUnavailable = (why?: string) =>
  new AppError(
    503,
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

/** More work queued than the service accepts (slow password hashes): 503, retry later. */
export class OverloadedError extends Error {}

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
    503,
    'write_unconfirmed',
    `applied on the primary, not yet confirmed by a replica (${acked} of ${wanted} within ` +
      `${waitMs} ms); retry with the same Idempotency-Key to get the same answer once confirmed`,
  );

/** A write was sent but its answer was lost (connection dropped, timeout): it may have applied. */
export const writeOutcomeUnknown = (why: string) =>
  new WriteUnconfirmedError(
    503,
    'write_outcome_unknown',
    `the write may or may not have been applied (${why}); retry with the same ` +
      'Idempotency-Key, or re-read the device',
  );

export const idempotencyKeyInvalid = (why: string) =>
  new AppError(400, 'bad_request', `Idempotency-Key: ${why}`, { field: 'Idempotency-Key' });
export const idempotencyKeyReused = () =>
  new AppError(
    422,
    'idempotency_key_reused',
    'Idempotency-Key was used for a different request (method, path, body or admin token)',
  );
export const idempotencyInFlight = () =>
  new AppError(
    409,
    'idempotency_in_flight',
    'a request with this Idempotency-Key is still being processed; retry in a second',
  );
/** An error below the HTTP layer: a stable `code`, no HTTP status (the edge maps codes). */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** MOSQUITTO_RELOAD could not be carried out (the files were written before it was tried). */
export const reloadFailed = (why: string) => new CodedError('reload_failed', why);

/** The broker quit after the reload signal (the files were written; it refused them or its config). */
export const brokerDied = (message: string) => new CodedError('broker_died', message);
