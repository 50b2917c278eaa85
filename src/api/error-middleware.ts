import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import {
  AppError,
  isRedisError,
  redisReplyText,
  storeUnavailable,
  StoreUnavailableError,
  validationError,
} from '../errors';
import type { Logger } from '../logger';
import { HTTP_STATUS, type KnownError } from './http-status';
import { answerOf, trackerOf } from './idempotency';

/** Last in the chain: known errors as {"error":{code,message}}, unknown ones as a bare 500. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return async (err: unknown, _req, res, _next) => {
    const known = toKnown(err);
    const tracker = trackerOf(res);
    if (tracker) await tracker.failed(err, known ? answerOf(known) : { status: 500 });
    if (res.headersSent) {
      // The deadline answered already; the late failure is only logged.
      logger.warn({ err }, 'management call failed after its deadline answered');
      return;
    }
    if (known) {
      if (known.status >= 500) {
        logger.warn({ code: known.code }, known.message);
        // Worth retrying soon: a failover or a replica catching up takes seconds.
        res.setHeader('Retry-After', '1');
      }
      res.status(known.status).json(answerOf(known).body);
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}

const render = (e: AppError): KnownError => ({
  status: HTTP_STATUS[e.code],
  code: e.code,
  message: e.message,
  details: e.details,
});

/** The known error `err` is, or null (a bare 500). */
function toKnown(err: unknown): KnownError | null {
  let known: KnownError | null = err instanceof AppError ? render(err) : null;
  // Redis trouble of any kind (down, slow, OOM, READONLY, LOADING…) is a clean 503.
  if (err instanceof StoreUnavailableError)
    known = render(storeUnavailable(err.reply ?? undefined));
  else if (isRedisError(err)) known = render(storeUnavailable(redisReplyText(err) ?? undefined));
  if (err instanceof ZodError) {
    const i = err.issues[0];
    known = render(validationError(`${i?.path.join('.') || 'value'}: ${i?.message ?? 'invalid'}`));
  }
  // body-parser's errors are HTTP errors already: they carry a status and a type
  const e = err as { status?: number; type?: string; message?: string };
  if (!known && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const code = e.type === 'entity.too.large' ? 'body_too_large' : 'bad_request';
    const message =
      e.type === 'entity.parse.failed' ? 'body is not valid JSON' : (e.message ?? 'bad request');
    known = { status: e.status, code, message };
  }
  return known;
}

export const notFoundHandler: RequestHandler = async (req, res) => {
  // An Idempotency-Key claimed for a route that does not exist frees at once (no 409 for 60 s).
  await trackerOf(res)?.unused();
  res
    .status(404)
    .json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
};
