// Idempotency-Key on the management API's writes (POST, PUT, PATCH, DELETE). The first attempt
// claims the key; its answer (status and body, a generated password included) is sealed under
// a key derived from the Idempotency-Key and kept 24 h. A retry with the same key and request
// gets that answer; with another request, 422; while the first still runs, 409.
// A write applied on the primary but unconfirmed (or whose answer was lost) keeps its would-be
// answer: the retry checks the device still shows that write, confirms it with the replicas,
// and replays it; if the write is gone (lost in a failover), the retry runs it afresh.
import type { RequestHandler, Response } from 'express';
import {
  fingerprint,
  idempotencyKeyProblem,
  idempotencySecrets,
  openAnswer,
  sealAnswer,
  type IdempotencySecrets,
} from '../domain/idempotency-crypto';
import {
  AppError,
  idempotencyInFlight,
  idempotencyKeyInvalid,
  idempotencyKeyReused,
  writeUnconfirmed,
  WriteUnconfirmedError,
} from '../errors';
import type { Logger } from '../logger';
import type { CredentialStore } from '../store/credential-store';
import type { IdempotencyRecord, IdempotencyStore } from '../store/idempotency-store';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A first attempt that never finished (a crash) frees its key after this. */
const PENDING_MS = 60_000;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface Answer {
  status: number;
  body?: unknown;
}

/** How a retry tells whether an unconfirmed write is still there: the device and its updatedAt
 * (null: the write deleted it). */
export interface Probe {
  id: string;
  updatedAt: string | null;
}

interface Sealed extends Answer {
  probe?: Probe;
}

/** What route() and the error middleware tell the idempotency record when a request ends. */
export interface IdempotencyTracker {
  done(answer: Answer): Promise<void>;
  failed(err: unknown, answer: Answer): Promise<void>;
}

/** Set by a route when its write may be applied but is not confirmed: the answer it makes. */
export function keepApplied(res: Response, answer: Answer, probe: Probe): void {
  res.locals.applied = { ...answer, probe } satisfies Sealed;
}

export const trackerOf = (res: Response): IdempotencyTracker | undefined =>
  res.locals.idempotency as IdempotencyTracker | undefined;

function replay(res: Response, a: Answer): void {
  res.setHeader('Idempotent-Replayed', 'true');
  res.setHeader('Cache-Control', 'no-store');
  if (a.body === undefined) res.status(a.status).end();
  else res.status(a.status).json(a.body);
}

export interface IdempotencyDeps {
  records: IdempotencyStore;
  store: Pick<CredentialStore, 'getUser' | 'confirm'>;
  durability: { minReplicasAck: number; waitTimeoutMs: number };
  logger: Logger;
}

export function idempotency(deps: IdempotencyDeps): RequestHandler {
  const { records, logger } = deps;

  function tracker(s: IdempotencySecrets, fp: string, res: Response): IdempotencyTracker {
    let settled = false;
    const save = async (rec: IdempotencyRecord) => {
      if (settled) return;
      settled = true;
      try {
        if (rec.state === 'pending') await records.release(s.name);
        else await records.save(s.name, rec, IDEMPOTENCY_TTL_MS);
      } catch (err) {
        // The change stands; a retry within PENDING_MS gets 409, later it runs again.
        logger.error({ err: (err as Error).message }, 'idempotency record not saved');
      }
    };
    return {
      done: (a) => save({ state: 'done', fp, box: sealAnswer(s.seal, a) }),
      failed: (err, a) => {
        const applied = (err as { applied?: unknown }).applied;
        const kept = res.locals.applied as Sealed | undefined;
        if (err instanceof WriteUnconfirmedError && applied !== undefined && kept)
          return save({ state: 'applied', fp, box: sealAnswer(s.seal, kept) });
        // Refused with a 4xx: that is the outcome. A 5xx: nothing applied, the retry runs again.
        if (a.status < 500) return save({ state: 'done', fp, box: sealAnswer(s.seal, a) });
        return save({ state: 'pending', fp });
      },
    };
  }

  /** An applied-but-unconfirmed first attempt: replay once confirmed, rerun if it is gone. */
  async function settleApplied(s: IdempotencySecrets, fp: string, sealed: Sealed) {
    const p = sealed.probe;
    const rec = p ? await deps.store.getUser(p.id) : undefined;
    const there = p && (p.updatedAt === null ? rec === null : rec?.updatedAt === p.updatedAt);
    if (!there || !p) return 'rerun' as const;
    if (!(await deps.store.confirm(p.id))) {
      const { minReplicasAck, waitTimeoutMs } = deps.durability;
      throw writeUnconfirmed(0, minReplicasAck, waitTimeoutMs);
    }
    const answer: Answer = { status: sealed.status, body: sealed.body };
    await records.save(
      s.name,
      { state: 'done', fp, box: sealAnswer(s.seal, answer) },
      IDEMPOTENCY_TTL_MS,
    );
    return answer;
  }

  return async (req, res, next) => {
    const key = req.get('Idempotency-Key');
    if (!WRITES.has(req.method) || key === undefined) return next();
    const problem = idempotencyKeyProblem(key);
    if (problem) throw idempotencyKeyInvalid(problem);
    const s = idempotencySecrets(key);
    const actor = (res.locals.actor as string | undefined) ?? '';
    const fp = fingerprint(s.mac, [req.method, req.path, actor, JSON.stringify(req.body ?? null)]);
    const found = await records.claim(s.name, fp, PENDING_MS);
    if (found) {
      if (found.fp !== fp) throw idempotencyKeyReused();
      if (found.state === 'pending') {
        res.setHeader('Retry-After', '1');
        throw idempotencyInFlight();
      }
      const sealed = found.box ? (openAnswer(s.seal, found.box) as Sealed | null) : null;
      if (!sealed) throw idempotencyKeyReused(); // does not open with this key
      if (found.state === 'done') return replay(res, sealed);
      const settled = await settleApplied(s, fp, sealed);
      if (settled !== 'rerun') return replay(res, settled);
      await records.save(s.name, { state: 'pending', fp }, PENDING_MS);
    }
    res.locals.idempotency = tracker(s, fp, res);
    next();
  };
}

/** The error middleware's part: an AppError's answer as the record keeps it. */
export function answerOf(err: AppError): Answer {
  return {
    status: err.status,
    body: {
      error: {
        code: err.code,
        message: err.message,
        ...(err.details ? { details: err.details } : {}),
      },
    },
  };
}
