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
import { HTTP_STATUS } from './http-status';

interface Rendered {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

const render = (e: AppError): Rendered => ({
  status: HTTP_STATUS[e.code],
  code: e.code,
  message: e.message,
  details: e.details,
});

/** Last in the chain: known errors as {"error":{code,message}}, unknown ones as a bare 500. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (res.headersSent) {
      // The deadline answered already; the late failure is only logged.
      logger.warn({ err }, 'management call failed after its deadline answered');
      return;
    }
    let known: Rendered | null = err instanceof AppError ? render(err) : null;
    // Redis trouble of any kind (down, slow, OOM, READONLY, LOADING…) is a clean 503.
    if (err instanceof StoreUnavailableError)
      known = render(storeUnavailable(err.reply ?? undefined));
    else if (isRedisError(err)) known = render(storeUnavailable(redisReplyText(err) ?? undefined));
    if (err instanceof ZodError) {
      const i = err.issues[0];
      known = render(
        validationError(`${i?.path.join('.') || 'value'}: ${i?.message ?? 'invalid'}`),
      );
    }
    // body-parser's errors are HTTP errors already: they carry a status and a type
    const e = err as { status?: number; type?: string; message?: string };
    if (!known && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const code = e.type === 'entity.too.large' ? 'body_too_large' : 'bad_request';
      const message =
        e.type === 'entity.parse.failed' ? 'body is not valid JSON' : (e.message ?? 'bad request');
      known = { status: e.status, code, message };
    }
    if (known) {
      if (known.status >= 500) logger.warn({ code: known.code }, known.message);
      res.status(known.status).json({
        error: {
          code: known.code,
          message: known.message,
          ...(known.details ? { details: known.details } : {}),
        },
      });
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res
    .status(404)
    .json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
};
