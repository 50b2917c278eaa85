// Hashes written by other tools that devices arrive with: mosquitto-go-auth's PBKDF2 (two
// spellings), bcrypt and argon2id. Verified so devices keep their passwords; never written:
// a device that logs in with one is given a `$7$` hash (upgrade at login).
//
// go-auth's format (hashing/pbkdf2.go): `PBKDF2$<sha256|sha512>$<iterations>$<salt>$<key>`,
// key standard base64 of any length, salt standard base64, or the salt's raw characters when
// go-auth ran with `hasher_salt_encoding utf-8`; and `pbkdf2-sha512$i=<n>,l=<len>$<salt>$<key>`
// with unpadded base64. Records keep one spelling: utf-8 salts are re-encoded as base64 of the
// same bytes at import (toStoredLegacy), so a stored hash says everything verification needs.
import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as argon2Verify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import { pbkdf2Work, sizeProblem } from './hash-limits';

const pbkdf2Async = promisify(pbkdf2);
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const B64_UNPADDED = /^[A-Za-z0-9+/]+$/;
const COUNT = /^[1-9][0-9]{0,8}$/;

export type SaltEncoding = 'base64' | 'utf-8';
export const SALT_ENCODINGS: readonly SaltEncoding[] = ['base64', 'utf-8'];

/** Keys shorter than this would accept a wrong password too often (go-auth accepts any). */
export const MIN_KEY_BYTES = 16;
/** argon2 memory above this is refused whatever the work bound (4 hashing threads × this). */
export const ARGON2_MAX_MEMORY_KIB = 256 * 1024;
export const ARGON2_MAX_PARALLELISM = 16;

export type LegacyHash =
  | {
      kind: 'goauth-pbkdf2';
      digest: 'sha256' | 'sha512';
      iterations: number;
      salt: Buffer;
      key: Buffer;
    }
  | { kind: 'bcrypt'; cost: number }
  | {
      kind: 'argon2id';
      memoryKiB: number;
      time: number;
      parallelism: number;
      saltBytes: number;
      keyBytes: number;
    };

function b64(text: string, padded: boolean): Buffer | null {
  if (!(padded ? B64 : B64_UNPADDED).test(text)) return null;
  const buf = Buffer.from(text, 'base64');
  // Node ignores stray bits; a re-encode that differs means the text was not canonical.
  const again = buf.toString('base64');
  return (padded ? again : again.replace(/=+$/, '')) === text ? buf : null;
}

function goAuthPbkdf2(fields: string[]): LegacyHash | null {
  // PBKDF2 $ digest $ iterations $ salt $ key
  if (fields[0] === 'PBKDF2' && fields.length === 5) {
    const [, digest, iter, salt, key] = fields as [string, string, string, string, string];
    if ((digest !== 'sha256' && digest !== 'sha512') || !COUNT.test(iter)) return null;
    const s = b64(salt, true);
    const k = b64(key, true);
    if (!s || !k || s.length === 0 || k.length < MIN_KEY_BYTES) return null;
    return { kind: 'goauth-pbkdf2', digest, iterations: Number(iter), salt: s, key: k };
  }
  // pbkdf2-sha512 $ i=N,l=L $ salt $ key
  if (fields[0] === 'pbkdf2-sha512' && fields.length === 4) {
    const [, params, salt, key] = fields as [string, string, string, string];
    const m = /^i=([1-9][0-9]{0,8}),l=([1-9][0-9]{0,3})$/.exec(params);
    const s = b64(salt, false);
    const k = b64(key, false);
    if (!m || !s || !k || k.length !== Number(m[2]) || k.length < MIN_KEY_BYTES) return null;
    return { kind: 'goauth-pbkdf2', digest: 'sha512', iterations: Number(m[1]), salt: s, key: k };
  }
  return null;
}

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
const ARGON2ID =
  /^\$argon2id\$v=(16|19)\$m=([1-9][0-9]{0,9}),t=([1-9][0-9]{0,9}),p=([1-9][0-9]{0,2})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{16,})$/;

/** Parses a legacy hash as stored (the base64 spelling), or null. Pure; no work done. */
export function parseLegacyHash(stored: string): LegacyHash | null {
  const bc = BCRYPT.exec(stored);
  if (bc) return { kind: 'bcrypt', cost: Number(bc[1]) };
  const a = ARGON2ID.exec(stored);
  if (a) {
    const [memoryKiB, time, parallelism] = [Number(a[2]), Number(a[3]), Number(a[4])];
    // argon2 needs at least 8 KiB per lane.
    if (memoryKiB < 8 * parallelism || parallelism > ARGON2_MAX_PARALLELISM) return null;
    // The PHC string's salt and hash are unpadded base64 that the verifier decodes strictly
    // ("Decoding failed" otherwise): one that does not decode is not a hash, here and at import.
    const salt = b64(a[5] as string, false);
    const key = b64(a[6] as string, false);
    if (!salt || !key) return null;
    return {
      kind: 'argon2id',
      memoryKiB,
      time,
      parallelism,
      saltBytes: salt.length,
      keyBytes: key.length,
    };
  }
  // go-auth splits on '$' dropping empty fields (strings.FieldsFunc): a leading '$' is allowed.
  return goAuthPbkdf2(stored.replace(/^\$/, '').split('$'));
}

/**
 * The hash as a record stores it: go-auth PBKDF2 with a utf-8 salt gets the base64 of the same
 * salt bytes, so the record needs no separate "salt encoding". Null: not a legacy hash.
 */
export function toStoredLegacy(hash: string, saltEncoding: SaltEncoding): string | null {
  if (saltEncoding === 'utf-8') {
    const fields = hash.replace(/^\$/, '').split('$');
    if (fields[0] === 'PBKDF2' && fields.length === 5 && fields[3] !== '') {
      fields[3] = Buffer.from(fields[3] as string, 'utf8').toString('base64');
    } else if (fields[0] === 'pbkdf2-sha512' && fields.length === 4 && fields[2] !== '') {
      fields[2] = Buffer.from(fields[2] as string, 'utf8')
        .toString('base64')
        .replace(/=+$/, '');
    }
    hash = fields.join('$');
  }
  return parseLegacyHash(hash) ? hash : null;
}

/**
 * Work of one verification in PBKDF2-SHA512 iterations, the unit of PASSWD_MAX_ITERATIONS.
 * Measured on the build machine: 100 000 PBKDF2-SHA512 iterations ≈ bcrypt cost 10 ≈ argon2id
 * with m×t ≈ 400 000 KiB (see docs/migrating-from-go-auth.md). PBKDF2 counts every block of
 * its key (src/domain/hash-limits.ts).
 */
export function legacyWork(h: LegacyHash): number {
  if (h.kind === 'goauth-pbkdf2') return pbkdf2Work(h.iterations, h.key.length, h.digest);
  if (h.kind === 'bcrypt') return 96 * 2 ** h.cost;
  return Math.ceil((h.memoryKiB * h.time) / 4);
}

/** Why a legacy hash may not be verified under `maxIterations`, or null when it may. */
export function legacyTooCostly(h: LegacyHash, maxIterations: number): string | null {
  const size =
    h.kind === 'goauth-pbkdf2'
      ? sizeProblem(h.salt.length, h.key.length)
      : h.kind === 'argon2id'
        ? sizeProblem(h.saltBytes, h.keyBytes)
        : null;
  if (size) return size;
  if (h.kind === 'argon2id' && h.memoryKiB > ARGON2_MAX_MEMORY_KIB) {
    return `argon2 memory ${h.memoryKiB} KiB is above ${ARGON2_MAX_MEMORY_KIB} KiB`;
  }
  const work = legacyWork(h);
  if (work > maxIterations) {
    return `its work (${work} PBKDF2 iterations' worth) is above PASSWD_MAX_ITERATIONS (${maxIterations})`;
  }
  return null;
}

/** What GET /devices/{id} shows instead of the hash. */
export function legacySchemeName(h: LegacyHash): string {
  return h.kind === 'goauth-pbkdf2' ? `go-auth-pbkdf2-${h.digest}` : h.kind;
}

/**
 * Verifies against a parsed legacy hash. A verifier that throws (a hash it cannot decode that
 * the parser let through) rejects: the caller turns that into a deny, never a 5xx. Every format runs in libuv's thread pool (node:crypto
 * PBKDF2, and the N-API async tasks of @node-rs/bcrypt and @node-rs/argon2), never on the
 * event loop; the work bound is the caller's (legacyTooCostly) and is checked first.
 */
export async function verifyLegacy(password: string, stored: string, h: LegacyHash) {
  if (h.kind === 'goauth-pbkdf2') {
    const key = await pbkdf2Async(password, h.salt, h.iterations, h.key.length, h.digest);
    return timingSafeEqual(key, h.key);
  }
  if (h.kind === 'bcrypt') return bcryptVerify(password, stored);
  return argon2Verify(stored, password);
}
