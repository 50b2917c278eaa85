// The two tables from error codes: every code has an HTTP status and an exit code, and an
// error below the API carries a code and no status.
import { HTTP_STATUS } from '../../src/api/http-status';
import { EXIT_CODE, exitCodeOf } from '../../src/cli/exit-codes';
import { ConfigError } from '../../src/config';
import {
  AppError,
  ERROR_CODES,
  conflict,
  notFound,
  retryable,
  storeUnavailable,
} from '../../src/errors';

it('every code has one HTTP status (4xx or 5xx) and one exit code', () => {
  expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
  expect(Object.keys(EXIT_CODE).sort()).toEqual([...ERROR_CODES].sort());
  for (const code of ERROR_CODES) expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
  expect([HTTP_STATUS.not_found, HTTP_STATUS.conflict, HTTP_STATUS.store_unavailable]).toEqual([
    404, 409, 503,
  ]);
});

it('errors carry a code and a message, no status', () => {
  const e = notFound('device "x" not found');
  expect(e).toBeInstanceOf(AppError);
  expect({ code: e.code, message: e.message }).toEqual({
    code: 'not_found',
    message: 'device "x" not found',
  });
  expect(Object.keys(e)).not.toContain('status');
  expect(storeUnavailable().code).toBe('store_unavailable');
});

it('the CLI exits 2 on bad configuration, 1 on any other failure', () => {
  expect(exitCodeOf(new ConfigError('PORT="x"'))).toBe(2);
  expect(exitCodeOf(conflict('exists'))).toBe(1);
  expect(exitCodeOf(new Error('boom'))).toBe(1);
});

it('a code is retryable exactly when the API answers it with a 5xx', () => {
  for (const code of ERROR_CODES)
    expect([code, retryable(new AppError(code, 'x'))]).toEqual([code, HTTP_STATUS[code] >= 500]);
  expect(retryable(new Error('connection lost'))).toBe(true);
});
