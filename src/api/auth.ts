import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { AdminToken } from '../config';
import { badRequest, unauthorized } from '../errors';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer tokens from ADMIN_TOKENS / ADMIN_TOKEN_FILE. Both sides are hashed to 32 bytes and
 * every token is compared (no early exit), so timing reveals neither length nor position.
 * No token configured: every call is refused — the API is never open by default.
 */
export function requireAdmin(tokens: readonly AdminToken[]): RequestHandler {
  // scope: what the token's Idempotency-Key records are kept under (one token cannot replay
  // another's answer); a digest of the digest, so it is no stand-in for the token.
  const known = tokens.map((t) => {
    const d = digest(t.token);
    return { name: t.name, digest: d, scope: createHash('sha256').update(d).digest('hex') };
  });
  return (req, res, next) => {
    if (known.length === 0) {
      throw unauthorized(
        'the management API is disabled: no admin token is configured. Set ADMIN_TOKENS=name:token ' +
          '(16+ characters) or ADMIN_TOKEN_FILE and restart',
      );
    }
    // Node keeps the first of two Authorization headers; a proxy may have read the other.
    if ((req.headersDistinct.authorization?.length ?? 0) > 1) {
      throw badRequest('more than one Authorization header: send exactly one');
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/i.exec(header);
    let who: (typeof known)[number] | null = null;
    if (m) {
      const given = digest(m[1] as string);
      for (const t of known) if (timingSafeEqual(given, t.digest) && who === null) who = t;
    }
    if (who === null) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="mqtt-authd"');
      throw unauthorized('missing or invalid bearer token');
    }
    res.locals.actor = who.name;
    res.locals.actorScope = who.scope;
    next();
  };
}
