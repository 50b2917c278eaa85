// Mosquitto password hashes: `$7$` (PBKDF2-HMAC-SHA512, Mosquitto ≥ 2.0) and `$6$`
// (salted SHA-512, Mosquitto 1.x; verified on import, never written).
import { createHash, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { pbkdf2Work, sizeProblem } from './hash-limits';

const pbkdf2Async = promisify(pbkdf2);
const KEY_BYTES = 64;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface ParsedHash {
  kind: 7 | 6;
  iterations: number;
  salt: Buffer;
  key: Buffer;
}

export interface HashOptions {
  iterations: number;
  saltBytes: number;
}

export function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  // ['', '7', iterations, salt, key] or ['', '6', salt, key]
  if (parts[0] !== '') return null;
  if (parts[1] === '7' && parts.length === 5) {
    const [, , iter, salt, key] = parts as [string, string, string, string, string];
    const iterations = /^[1-9][0-9]{0,8}$/.test(iter) ? Number(iter) : NaN;
    if (!Number.isSafeInteger(iterations) || !B64.test(salt) || !B64.test(key)) return null;
    const k = Buffer.from(key, 'base64');
    const s = Buffer.from(salt, 'base64');
    if (k.length !== KEY_BYTES || s.length === 0) return null;
    return { kind: 7, iterations, salt: s, key: k };
  }
  if (parts[1] === '6' && parts.length === 4) {
    const [, , salt, key] = parts as [string, string, string, string];
    if (!B64.test(salt) || !B64.test(key)) return null;
    const k = Buffer.from(key, 'base64');
    const s = Buffer.from(salt, 'base64');
    if (k.length !== KEY_BYTES || s.length === 0) return null;
    return { kind: 6, iterations: 1, salt: s, key: k };
  }
  return null;
}

/** Work of verifying against `h`, in PBKDF2-SHA512 iterations (`$6$` counts as 1). */
export const workOf = (h: ParsedHash): number =>
  h.kind === 6 ? 1 : pbkdf2Work(h.iterations, h.key.length, 'sha512');

/** Why a `$7$`/`$6$` hash may not be verified under `maxIterations`, or null when it may. */
export function nativeTooCostly(h: ParsedHash, maxIterations: number): string | null {
  const size = sizeProblem(h.salt.length, h.key.length);
  if (size) return size;
  const work = workOf(h);
  return work > maxIterations
    ? `it needs ${work} iterations, above PASSWD_MAX_ITERATIONS (${maxIterations})`
    : null;
}

export async function derive(
  password: string,
  h: Pick<ParsedHash, 'kind' | 'iterations' | 'salt'>,
): Promise<Buffer> {
  if (h.kind === 6) {
    return createHash('sha512').update(password, 'utf8').update(h.salt).digest();
  }
  return pbkdf2Async(password, h.salt, h.iterations, KEY_BYTES, 'sha512');
}

export async function hashPassword(password: string, opts: HashOptions): Promise<string> {
  const salt = randomBytes(opts.saltBytes);
  const key = await derive(password, { kind: 7, iterations: opts.iterations, salt });
  return `$7$${opts.iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** `unusable`: a hash that needs more work than PASSWD_MAX_ITERATIONS (never derived). */
export type VerifyResult = 'match' | 'mismatch' | 'malformed' | 'unusable';
