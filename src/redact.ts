// Secrets never reach a log line or an error message: the credentials in a Redis URL, password
// hashes, bearer tokens. Applied to every message and error the logger writes (logger.ts) and
// to every message that quotes REDIS_URL.

/** `redis://user:secret@host` → `redis://***@host` (also when the URL is malformed). */
export const redactUrl = (text: string): string =>
  text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@\s/"']*@/gi, '$1***@');

/** A configured URL value, well-formed or not: everything up to its last `@` is credentials. */
export const redactUrlValue = (url: string): string =>
  url.includes('@')
    ? url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/i, (_m, scheme?: string) => `${scheme ?? ''}***@`)
    : url;

// `$7$101$salt$key`, `$6$salt$key`, and bcrypt/argon2-looking strings.
const HASH = /\$(?:7\$\d+|6|2[abxy]?\$\d+|argon2(?:id|i|d)\$[^$\s]*)\$[A-Za-z0-9+/.=$,-]{8,}/g;
const BEARER = /(Bearer\s+)[^\s"',]+/gi;

export function redactSecrets(text: string): string {
  return redactUrl(text).replace(HASH, '[redacted hash]').replace(BEARER, '$1[redacted]');
}
