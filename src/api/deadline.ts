// MANAGEMENT_TIMEOUT_MS: a management call that has not answered by then (a stalled Redis)
// gets a 503 instead of hanging. The work it started may still complete; the audit trail and
// GET show whether it did. POST /export is exempt: a large export takes what it takes.
import type { RequestHandler } from 'express';

export function deadline(ms: number): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' && req.path === '/export') return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.status(503).json({
        error: {
          code: 'store_unavailable',
          message: `no answer within MANAGEMENT_TIMEOUT_MS (${ms} ms): the credential store (Redis) is slow or stalled; retry (the change may have been applied)`,
        },
      });
    }, ms);
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
