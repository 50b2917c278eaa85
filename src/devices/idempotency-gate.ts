// Idempotency-Key, transport-free: what the management API's middleware and the CLI share.
// The first attempt claims the key; its answer (status and body, a generated password
// included) is sealed under a key derived from the Idempotency-Key and kept 24 h. A retry with
// the same key and request gets that answer; with another request, 422; while the first still
// runs, 409. A write applied on the primary but unconfirmed (or whose answer was lost) keeps
// its would-be answer: the retry checks the device still shows that write, confirms it with
// the replicas, and replays it; if the write is gone (lost in a failover), it runs afresh.
// A claim is owned by its attempt (a random owner): an attempt that ends without an answer to
// keep (the store unavailable, no route) abandons it, atomically and only its own, so a 503 is
// never followed by a minute of 409s: a claim that ran late (queued while Redis was hung, run
// after the 503 was sent) is removed by the abandon queued behind it on the same connection.
import { randomBytes } from 'node:crypto';
import {
  fingerprint,
  idempotencyKeyProblem,
  idempotencySecrets,
  openAnswer,
  sealAnswer,
  type IdempotencySecrets,
} from '../domain/idempotency-crypto';
import {
  idempotencyInFlight,
  idempotencyKeyInvalid,
  idempotencyKeyReused,
  retryable,
  writeUnconfirmed,
  WriteUnconfirmedError,
} from '../errors';
import type { Logger } from '../logger';
import type { CredentialStore } from '../store/credential-store';
import {
  pendingClaim,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../store/idempotency-store';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A first attempt that never finished (a crash) frees its key after this. */
const PENDING_MS = 60_000;
/** An abandon that got no answer is sent again this often, until one is answered. */
const ABANDON_RETRY_MS = 250;

export interface Answer {
  status: number;
  body?: unknown;
}

/** How a retry tells an unconfirmed write is still there: the device and its updatedAt
 * (null: the write deleted it). */
export interface Probe {
  id: string;
  updatedAt: string | null;
}

export interface KeptAnswer extends Answer {
  probe?: Probe;
}

/** Told how the first attempt ended, once. */
export interface IdempotencyTracker {
  done(answer: Answer): Promise<void>;
  /** `kept`: the answer a write applied but unconfirmed would have made. */
  failed(err: unknown, answer: Answer, kept?: KeptAnswer): Promise<void>;
  /** Nothing ran (no route took the request): the key is free again at once. */
  unused(): Promise<void>;
}

export type Begun = { replay: Answer } | { tracker: IdempotencyTracker };

export interface IdempotencyDeps {
  records: IdempotencyStore;
  store: Pick<CredentialStore, 'getUser' | 'confirm'>;
  durability: { minReplicasAck: number; waitTimeoutMs: number };
  logger: Logger;
}

export class IdempotencyGate {
  constructor(private readonly deps: IdempotencyDeps) {}

  /**
   * `scope`: whose records these are (an admin token's; '' for the CLI): the same key under
   * another scope is another record. `parts`: what makes two requests the same (method, path,
   * query, actor, body).
   */
  async begin(key: string, scope: string, parts: readonly string[]): Promise<Begun> {
    const problem = idempotencyKeyProblem(key);
    if (problem) throw idempotencyKeyInvalid(problem);
    const s = idempotencySecrets(key, scope);
    const fp = fingerprint(s.mac, parts);
    const owner = randomBytes(12).toString('base64url');
    let found: IdempotencyRecord | null;
    try {
      found = await this.deps.records.claim(s.name, fp, owner, PENDING_MS);
    } catch (err) {
      // No answer: the claim may still run (queued behind a hung Redis). Our abandon follows it.
      await this.abandon(s.name, fp, owner);
      throw err;
    }
    if (found) {
      if (found.fp !== fp) throw idempotencyKeyReused();
      if (found.state === 'pending') throw idempotencyInFlight();
      const kept = found.box ? (openAnswer(s.seal, found.box) as KeptAnswer | null) : null;
      if (!kept) throw idempotencyKeyReused(); // does not open with this key
      if (found.state === 'done') return { replay: { status: kept.status, body: kept.body } };
      const settled = await this.settleApplied(s, fp, kept);
      if (settled) return { replay: settled };
      await this.deps.records.save(s.name, pendingClaim(fp, owner), PENDING_MS);
    }
    return { tracker: this.tracker(s, fp, owner) };
  }

  /**
   * Frees the key if it still holds this attempt's claim. Awaited once (so the 503 follows it
   * when Redis answers); unanswered, it is sent again in the background until one is answered
   * or the claim would have expired anyway. The first send is queued on the claim's connection
   * before the caller answers, so it runs after a late claim and before the client's retry.
   */
  private async abandon(name: string, fp: string, owner: string): Promise<void> {
    const until = Date.now() + PENDING_MS;
    const attempt = (): Promise<void> =>
      this.deps.records.abandon(name, fp, owner).then(
        () => undefined,
        (err: unknown) => {
          if (Date.now() >= until) {
            this.deps.logger.error(
              { err: (err as Error).message },
              'idempotency claim not abandoned; the key is in flight until it expires',
            );
            return;
          }
          setTimeout(() => void attempt(), ABANDON_RETRY_MS).unref();
        },
      );
    await attempt();
  }

  private tracker(s: IdempotencySecrets, fp: string, owner: string): IdempotencyTracker {
    let settled = false;
    const save = async (rec: IdempotencyRecord) => {
      if (settled) return;
      settled = true;
      if (rec.state === 'pending') return this.abandon(s.name, fp, owner);
      try {
        await this.deps.records.save(s.name, rec, IDEMPOTENCY_TTL_MS);
      } catch (err) {
        // The change stands; a retry within PENDING_MS gets 409, later it runs again.
        this.deps.logger.error({ err: (err as Error).message }, 'idempotency record not saved');
      }
    };
    const sealed = (state: 'done' | 'applied', a: KeptAnswer) =>
      save({ state, fp, box: sealAnswer(s.seal, a) });
    return {
      done: (a) => sealed('done', a),
      failed: (err, a, kept) => {
        if (err instanceof WriteUnconfirmedError && err.applied !== undefined && kept)
          return sealed('applied', kept);
        // Refused (not found, conflict, invalid…): that is the outcome. The store or a replica
        // unavailable: nothing applied, the retry runs again.
        if (!retryable(err)) return sealed('done', a);
        return save(pendingClaim(fp, owner));
      },
      unused: () => save(pendingClaim(fp, owner)),
    };
  }

  /** The kept answer once the write is confirmed; null when the write is gone (run again). */
  private async settleApplied(
    s: IdempotencySecrets,
    fp: string,
    kept: KeptAnswer,
  ): Promise<Answer | null> {
    const p = kept.probe;
    if (!p) return null;
    const rec = await this.deps.store.getUser(p.id);
    const there = p.updatedAt === null ? rec === null : rec?.updatedAt === p.updatedAt;
    if (!there) return null;
    if (!(await this.deps.store.confirm(p.id))) {
      const { minReplicasAck, waitTimeoutMs } = this.deps.durability;
      throw writeUnconfirmed(0, minReplicasAck, waitTimeoutMs);
    }
    const answer: Answer = { status: kept.status, body: kept.body };
    await this.deps.records.save(
      s.name,
      { state: 'done', fp, box: sealAnswer(s.seal, answer) },
      IDEMPOTENCY_TTL_MS,
    );
    return answer;
  }
}

/**
 * Runs `run` under `key` (no key: just runs it). `shape` turns its result into the answer kept
 * for a retry; `probe` names what an unconfirmed write left behind. For the CLI.
 */
export async function runIdempotent<T>(
  gate: IdempotencyGate,
  key: string | undefined,
  parts: readonly string[],
  run: () => Promise<T>,
  shape: (v: T) => Answer,
  probe: (a: Answer) => Probe,
): Promise<Answer> {
  if (key === undefined) return shape(await run());
  const begun = await gate.begin(key, '', parts);
  if ('replay' in begun) return begun.replay;
  try {
    const a = shape(await run());
    await begun.tracker.done(a);
    return a;
  } catch (err) {
    const applied = (err as WriteUnconfirmedError).applied;
    const kept = applied === undefined ? undefined : shape(applied as T);
    // The CLI replays bodies only: a refusal keeps no answer of its own (the retry repeats it).
    await begun.tracker.failed(err, { status: 0 }, kept && { ...kept, probe: probe(kept) });
    throw err;
  }
}
