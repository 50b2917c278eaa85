// The bound on hashing work per broker check, in one place. Work is counted in PBKDF2-SHA512
// iterations of one 64-byte block (`$6$` counts as 1; PBKDF2 counts every block of its key,
// src/domain/hash-limits.ts); imported formats (go-auth PBKDF2, bcrypt, argon2id) map their
// cost into the same unit in legacyWork(). A stored hash above PASSWD_MAX_ITERATIONS, or with a
// salt or key above the size caps, is never derived: it is "unusable".
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { OverloadedError } from '../errors';
import { HEAVY_FACTOR } from './hash-limits';
import { verifyLegacy } from './legacy-hash';
import { derive, workOf, type VerifyResult } from './passwd-hash';
import { decodeVerifier, verifierTooCostly, verifierWork, type Verifier } from './verifier';

export { HEAVY_FACTOR, workOf };

const pbkdf2Async = promisify(pbkdf2);
const DUMMY_SALT = randomBytes(12);

export interface HashWorkLimits {
  /** PASSWD_MAX_ITERATIONS: hashes costing more are refused, never derived. */
  maxIterations: number;
  /** PASSWD_ITERATIONS: what an unknown user costs; cheaper hashes are padded up to it. */
  padTo: number;
  /** PASSWD_SLOW_LANE_WIDTH: slow-lane hashes derived at once (of libuv's hashing threads). */
  slowLaneWidth?: number;
  /**
   * PASSWD_SLOW_LANE_MAX_WAIT_MS: a slow-lane login is queued only when it is expected to be
   * answered within this (below go-auth's HTTP timeout, 5 s); otherwise "overloaded" (503).
   */
  slowLaneMaxWaitMs?: number;
  /** PASSWD_SLOW_LANE_QUEUE: at most this many waiting, whatever the estimate. */
  slowLaneQueue?: number;
}

export const SLOW_LANE_DEFAULTS = { width: 1, maxWaitMs: 3000, queue: 10_000 } as const;

export type BoundedResult = VerifyResult | 'unusable';

interface Waiting {
  work: number;
  start: () => void;
}

/**
 * Verifies passwords within the limits. libuv runs PBKDF2 on 4 threads (UV_THREADPOOL_SIZE):
 * the slow lane lets hashes far above the configured cost take `slowLaneWidth` of them at
 * most, so a few such devices cannot starve everyone else's logins. Its queue is bounded by
 * time, not count: the work waiting ahead, at the measured speed, must be done within
 * `slowLaneMaxWaitMs`, so a login that waits is answered before go-auth gives up on it, and
 * one that could not be is refused at once (go-auth retries) rather than answered too late.
 */
export class HashWork {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private waitingWork = 0;
  /** Measured milliseconds per unit of work (one PBKDF2-SHA512 iteration), moving average. */
  private msPerUnit: number | null = null;
  private readonly width: number;
  private readonly maxWaitMs: number;
  private readonly queueMax: number;

  constructor(readonly limits: HashWorkLimits) {
    this.width = limits.slowLaneWidth ?? SLOW_LANE_DEFAULTS.width;
    this.maxWaitMs = limits.slowLaneMaxWaitMs ?? SLOW_LANE_DEFAULTS.maxWaitMs;
    this.queueMax = limits.slowLaneQueue ?? SLOW_LANE_DEFAULTS.queue;
  }

  /**
   * `stored`: the record's verifier (decoded once with the record), or a hash as text.
   * `signal`: the asker went away (go-auth's timeout): a login still waiting is dropped.
   */
  async verify(
    password: string,
    stored: Verifier | string,
    signal?: AbortSignal,
  ): Promise<BoundedResult> {
    const v = typeof stored === 'string' ? decodeVerifier(stored) : stored;
    if (v.kind === 'malformed') {
      await this.dummy(password);
      return 'malformed';
    }
    const work = verifierWork(v);
    if (verifierTooCostly(v, this.limits.maxIterations) !== null) {
      await this.dummy(password);
      return 'unusable';
    }
    const check =
      v.kind === 'legacy'
        ? () => verifyLegacy(password, v.stored, v.hash)
        : async () => timingSafeEqual(await derive(password, v.hash), v.hash.key);
    let ok: boolean;
    try {
      ok =
        work > this.limits.padTo * HEAVY_FACTOR
          ? await this.heavy(work, check, signal)
          : await check();
    } catch (err) {
      // A verifier that cannot decode what the parser let through: a deny, never a 5xx.
      if (err instanceof OverloadedError) throw err;
      return 'malformed';
    }
    // Cheaper hashes ($6$, low counts) cost what an unknown user costs: timing tells nothing.
    if (work < this.limits.padTo) await this.burn(password, this.limits.padTo - work);
    return ok ? 'match' : 'mismatch';
  }

  /** The work of an unknown or disabled user: a `$7$` hash at `padTo`. */
  dummy(password: string): Promise<void> {
    return this.burn(password, this.limits.padTo);
  }

  /** Slow-lane state, for metrics and tests. */
  slowLane(): { running: number; waiting: number; expectedWaitMs: number | null } {
    return {
      running: this.running,
      waiting: this.waiting.length,
      expectedWaitMs: this.msPerUnit === null ? null : this.expectedWait(0),
    };
  }

  private async burn(password: string, iterations: number): Promise<void> {
    const t0 = performance.now();
    await pbkdf2Async(password, DUMMY_SALT, iterations, 64, 'sha512');
    // Calibrates the slow lane's estimate before its first hash (a dummy runs at startup-ish:
    // the first unknown or cheap login).
    if (this.msPerUnit === null && iterations >= 1000) {
      this.msPerUnit = (performance.now() - t0) / iterations;
    }
  }

  /** Milliseconds until `extra` more work queued now would be done. */
  private expectedWait(extra: number): number {
    const ahead = this.waitingWork + extra + this.runningWork;
    return ((this.msPerUnit ?? 0) * ahead) / this.width;
  }

  private runningWork = 0;
  private measured = false;

  private async heavy<T>(work: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running >= this.width) {
      // An asker already gone never waits (an abort before the listener below would be missed).
      if (signal?.aborted) throw new OverloadedError('the asker went away before waiting');
      if (
        this.waiting.length >= this.queueMax ||
        (this.msPerUnit !== null && this.expectedWait(work) > this.maxWaitMs)
      ) {
        throw new OverloadedError('too many slow password hashes waiting');
      }
      this.waitingWork += work;
      // The slot is handed over by the hash that finishes (running stays counted), so no
      // newcomer can take it in between. A login whose asker gave up leaves the queue: on
      // migration day go-auth retries after its timeout, and the abandoned wait would cost a
      // hash nobody reads.
      const started = await new Promise<boolean>((resolve) => {
        const entry: Waiting = { work, start: () => resolve(true) };
        this.waiting.push(entry);
        signal?.addEventListener(
          'abort',
          () => {
            const at = this.waiting.indexOf(entry);
            if (at === -1) return;
            this.waiting.splice(at, 1);
            resolve(false);
          },
          { once: true },
        );
      });
      this.waitingWork -= work;
      if (!started) throw new OverloadedError('the asker went away while waiting');
    } else {
      this.running++;
    }
    this.runningWork += work;
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const ms = (performance.now() - t0) / work;
      // A slowdown (a loaded machine) counts at once, a speed-up only on average: the estimate
      // errs towards refusing early (a retry) rather than answering after the plugin gave up.
      const avg = this.msPerUnit;
      this.msPerUnit = this.measured && avg !== null && ms < avg ? avg * 0.8 + ms * 0.2 : ms;
      this.measured = true;
      this.runningWork -= work;
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }
}

/** Whether a stored hash (as text) is over the bound; cheap, for exports and imports. */
export function overWorkBound(stored: string, maxIterations: number): boolean {
  return verifierTooCostly(decodeVerifier(stored), maxIterations) !== null;
}
