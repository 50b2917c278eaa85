// The one table from error codes to the CLI's exit codes. 2 is kept for an invalid
// configuration (ConfigError) and 3 for `decide` answering "deny"; every failure of a
// command is 1, whatever its code, so a script tests for one value only.
import { ConfigError } from '../config';
import { AppError, type ErrorCode } from '../errors';

export const EXIT_CONFIG = 2;
export const EXIT_DENIED = 3;

export const EXIT_CODE: Readonly<Record<ErrorCode, number>> = {
  bad_request: 1,
  validation_failed: 1,
  unsupported_media_type: 1,
  unauthorized: 1,
  cross_site_refused: 1,
  too_many_rules: 1,
  not_found: 1,
  conflict: 1,
  damaged_record: 1,
  export_failed: 1,
  export_not_configured: 1,
  reload_failed: 1,
  broker_died: 1,
  store_unavailable: 1,
  write_unconfirmed: 1,
  write_outcome_unknown: 1,
  idempotency_key_reused: 1,
  idempotency_in_flight: 1,
  overloaded: 1,
  console_not_built: 1,
};

/** The exit code for an error a command ended with. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError) return EXIT_CONFIG;
  if (err instanceof AppError) return EXIT_CODE[err.code];
  return 1;
}
