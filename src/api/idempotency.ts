// Idempotency-Key on the management API's writes (POST, PUT, PATCH, DELETE): the middleware
// part of devices/idempotency-gate.ts. route() and the error middleware tell the tracker how
// the request ended; a route whose write is applied but unconfirmed keeps its would-be answer.
import type { RequestHandler, Response } from 'express';
import type { AppError } from '../errors';
import type { KnownError } from './http-status';
import {
  IdempotencyGate,
  type Answer,
  type IdempotencyDeps,
  type IdempotencyTracker,
  type KeptAnswer,
  type Probe,
} from '../devices/idempotency-gate';

export type { Answer, Probe };

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Set by a route when its write may be applied but is not confirmed: the answer it makes. */
export function keepApplied(res: Response, answer: Answer, probe: Probe): void {
  res.locals.applied = { ...answer, probe } satisfies KeptAnswer;
}

/** How route() and the error middleware reach the request's record. */
export function trackerOf(res: Response): IdempotencyTracker | undefined {
  const t = res.locals.idempotency as IdempotencyTracker | undefined;
  if (!t) return undefined;
  return {
    done: (a) => t.done(a),
    failed: (err, a) => t.failed(err, a, res.locals.applied as KeptAnswer | undefined),
    unused: () => t.unused(),
  };
}

/** The raw query string, as sent: `?username=a` and `?username=b` are two requests. */
const queryOf = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q);
};

export function idempotency(deps: IdempotencyDeps): RequestHandler {
  const gate = new IdempotencyGate(deps);
  return async (req, res, next) => {
    const key = req.get('Idempotency-Key');
    if (!WRITES.has(req.method) || key === undefined) return next();
    const actor = (res.locals.actor as string | undefined) ?? '';
    let begun;
    try {
      begun = await gate.begin(key, res.locals.actorScope as string, [
        req.method,
        req.path,
        queryOf(req.originalUrl),
        actor,
        JSON.stringify(req.body ?? null),
      ]);
    } catch (err) {
      if ((err as AppError).code === 'idempotency_in_flight') res.setHeader('Retry-After', '1');
      throw err;
    }
    if ('tracker' in begun) {
      res.locals.idempotency = begun.tracker;
      return next();
    }
    res.setHeader('Idempotent-Replayed', 'true');
    res.setHeader('Cache-Control', 'no-store');
    if (begun.replay.body === undefined) res.status(begun.replay.status).end();
    else res.status(begun.replay.status).json(begun.replay.body);
  };
}

/** A known error's answer, as the error middleware renders it and the record keeps it. */
export function answerOf(err: KnownError): Answer {
  const { code, message, details } = err;
  return {
    status: err.status,
    body: { error: { code, message, ...(details ? { details } : {}) } },
  };
}
