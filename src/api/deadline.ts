// MANAGEMENT_TIMEOUT_MS: a management call that has not answered by then (a stalled Redis)
// gets a 503 instead of hanging. The work it started may still complete; the audit trail and
// GET show whether it did. POST /export is exempt: a large export takes what it takes.
import type { RequestHandler } from 'express';

export function deadline(ms: number): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' && req.path === '/export') return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      const write = req.method !== 'GET' && req.method !== 'HEAD';
      res.setHeader('Retry-After', '1');
      res.status(503).json({
        error: write
          ? {
              // Not "unreachable": the write may have been applied. A retry with the same
              // Idempotency-Key gets its answer once it completed.
              code: 'write_outcome_unknown',
              message: `no answer within MANAGEMENT_TIMEOUT_MS (${ms} ms): the write may or may not have been applied; retry with the same Idempotency-Key, or re-read`,
            }
          : {
              code: 'store_unavailable',
              message: `no answer within MANAGEMENT_TIMEOUT_MS (${ms} ms): the credential store (Redis) is slow or stalled; retry`,
            },
      });
    }, ms);
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
