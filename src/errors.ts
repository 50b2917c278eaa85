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
export const storeUnavailable = () =>
  new AppError(503, 'store_unavailable', 'the credential store (Redis) is unreachable; retry');

/** Raised by the store when Redis cannot be reached or did not answer in time. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`store unavailable: ${(cause as Error)?.message ?? String(cause)}`);
  }
}
