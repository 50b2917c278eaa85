// The one table from error codes to HTTP statuses (errors below the API carry no status).
import type { ErrorCode } from '../errors';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  validation_failed: 400,
  unsupported_media_type: 415,
  unauthorized: 401,
  cross_site_refused: 403,
  too_many_rules: 400,
  not_found: 404,
  conflict: 409,
  damaged_record: 409,
  export_failed: 503,
  export_not_configured: 409,
  reload_failed: 503,
  broker_died: 503,
  store_unavailable: 503,
  write_unconfirmed: 503,
  write_outcome_unknown: 503,
  idempotency_key_reused: 422,
  idempotency_in_flight: 409,
  overloaded: 503,
  console_not_built: 503,
};

/** A known error as the API answers it: the status from the table above, or body-parser's. */
export interface KnownError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}
