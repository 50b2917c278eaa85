// The bound on hashing work per broker check, in one place. Work is counted in PBKDF2-SHA512
// iterations of one 64-byte block (`$6$` counts as 1; PBKDF2 counts every block of its key,
// src/domain/hash-limits.ts); imported formats (go-auth PBKDF2, bcrypt, argon2id) map their
// cost into the same unit in legacyWork(). A stored hash above PASSWD_MAX_ITERATIONS, or with a
// salt or key above the size caps, is never derived: it is "unusable".
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { OverloadedError } from '../errors';
import {
  legacyTooCostly,
  legacyWork,
  parseLegacyHash,
  verifyLegacy,
  type LegacyHash,
} from './legacy-hash';
import {
  derive,
  nativeTooCostly,
  parseHash,
  workOf,
  type ParsedHash,
  type VerifyResult,
} from './passwd-hash';

export { workOf };

const pbkdf2Async = promisify(pbkdf2);
const DUMMY_SALT = randomBytes(12);

export interface HashWorkLimits {
  /** PASSWD_MAX_ITERATIONS: hashes costing more are refused, never derived. */
  maxIterations: number;
  /** PASSWD_ITERATIONS: what an unknown user costs; cheaper hashes are padded up to it. */
  padTo: number;
}

/** Hashes dearer than this many times `padTo` verify one at a time (the slow lane). */
export const HEAVY_FACTOR = 10;
/** Slow-lane derivations allowed to wait; more answer "overloaded" (503, go-auth retries). */
export const HEAVY_QUEUE = 16;

export type BoundedResult = VerifyResult | 'unusable';

/**
 * Verifies passwords within the limits. libuv runs PBKDF2 on 4 threads: the slow lane lets
 * hashes far above the configured cost take one of them at most, so a few such devices
 * cannot starve everyone else's logins.
 */
export class HashWork {
  private heavyBusy = false;
  private readonly heavyWaiting: (() => void)[] = [];

  constructor(readonly limits: HashWorkLimits) {}

  async verify(password: string, stored: string): Promise<BoundedResult> {
    const parsed = parseHash(stored);
    const legacy = parsed ? null : parseLegacyHash(stored);
    if (!parsed && !legacy) {
      await this.dummy(password);
      return 'malformed';
    }
    const work = parsed ? workOf(parsed) : legacyWork(legacy as LegacyHash);
    if (tooCostly(parsed, legacy, this.limits.maxIterations)) {
      await this.dummy(password);
      return 'unusable';
    }
    const check = parsed
      ? async () => timingSafeEqual(await derive(password, parsed), parsed.key)
      : () => verifyLegacy(password, stored, legacy as LegacyHash);
    let ok: boolean;
    try {
      ok = work > this.limits.padTo * HEAVY_FACTOR ? await this.heavy(check) : await check();
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

  private async burn(password: string, iterations: number): Promise<void> {
    await pbkdf2Async(password, DUMMY_SALT, iterations, 64, 'sha512');
  }

  private async heavy<T>(fn: () => Promise<T>): Promise<T> {
    if (this.heavyBusy) {
      if (this.heavyWaiting.length >= HEAVY_QUEUE)
        throw new OverloadedError('too many slow password hashes waiting');
      await new Promise<void>((resolve) => this.heavyWaiting.push(resolve));
    }
    this.heavyBusy = true;
    try {
      return await fn();
    } finally {
      const next = this.heavyWaiting.shift();
      if (next) next();
      else this.heavyBusy = false;
    }
  }
}

function tooCostly(parsed: ParsedHash | null, legacy: LegacyHash | null, max: number): boolean {
  if (parsed) return nativeTooCostly(parsed, max) !== null;
  return legacy !== null && legacyTooCostly(legacy, max) !== null;
}

/** Whether a stored hash (as text) is over the bound; cheap, for exports and imports. */
export function overWorkBound(stored: string, maxIterations: number): boolean {
  const parsed = parseHash(stored);
  return tooCostly(parsed, parsed ? null : parseLegacyHash(stored), maxIterations);
}
