// What an Idempotency-Key turns into: the Redis name of its record, the AES-256-GCM key that
// seals the stored answer (a generated password in it stays unreadable without the key), and
// a MAC key for the request's fingerprint. All three derived with HKDF-SHA256 from the
// Idempotency-Key itself; the key is never stored, only the name (which reveals nothing of the
// other two). A guessable Idempotency-Key would open its answer: keys must be random.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const SALT = 'mqtt-authd idempotency v1';
const AAD = Buffer.from(SALT);

export interface IdempotencySecrets {
  /** hex; names the Redis record. */
  name: string;
  seal: Buffer;
  mac: Buffer;
}

/** Printable ASCII, 16 to 255 characters (a UUID is 36): shorter ones are too easy to guess. */
export function idempotencyKeyProblem(key: string): string | null {
  if (key.length < 16 || key.length > 255) return 'must be 16 to 255 characters (use a UUID)';
  if (!/^[\x21-\x7e]+$/.test(key)) return 'must be printable ASCII without spaces';
  return null;
}

const derive = (key: string, info: string) =>
  Buffer.from(hkdfSync('sha256', Buffer.from(key, 'utf8'), SALT, info, 32));

/** `scope` (an admin token's, '' for the CLI) names the record: one key, one record per scope. */
export function idempotencySecrets(key: string, scope = ''): IdempotencySecrets {
  return {
    name: derive(key, scope ? `record name ${scope}` : 'record name').toString('hex'),
    seal: derive(key, 'aes-256-gcm'),
    mac: derive(key, 'request fingerprint'),
  };
}

/** The request a key was first used for: keyed, so a stored fingerprint reveals no body. */
export function fingerprint(mac: Buffer, parts: readonly string[]): string {
  const h = createHmac('sha256', mac);
  for (const p of parts) h.update(`${Buffer.byteLength(p)}:${p}`);
  return h.digest('base64url');
}

export function sealAnswer(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(AAD);
  const ct = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url');
}

/** The sealed value, or null when it does not open (another key, altered bytes). */
export function openAnswer(key: Buffer, box: string): unknown {
  try {
    const raw = Buffer.from(box, 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(AAD);
    d.setAuthTag(raw.subarray(12, 28));
    const pt = Buffer.concat([d.update(raw.subarray(28)), d.final()]);
    return JSON.parse(pt.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
