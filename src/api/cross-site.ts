// Management and console routes answer only their own origin. The API needs a bearer token
// that a page of another site cannot read (the console keeps it in sessionStorage), so CSRF
// needs a token leak first; this is the second wall: a browser request that Fetch Metadata or
// Origin marks as coming from elsewhere is refused before any route runs. Requests without
// those headers (curl, scripts, the CLI) are not browsers and pass. A top-level navigation
// (a link to /admin) is allowed: it carries no token and changes nothing.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { crossSiteRefused } from '../errors';

const SAFE = new Set(['GET', 'HEAD']);

/** Why this request is cross-site, or null. `hosts`: the Host values this service answers as. */
export function managementCrossSite(
  method: string,
  headers: IncomingHttpHeaders,
  hosts: readonly string[],
): string | null {
  const navigation = SAFE.has(method) && headers['sec-fetch-mode'] === 'navigate';
  const site = headers['sec-fetch-site'];
  if ((site === 'cross-site' || site === 'same-site') && !navigation)
    return `Sec-Fetch-Site is ${site}`;
  const origin = headers.origin;
  if (origin !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      // "null" (sandboxed frames, file:) and anything unparsable: not this site
    }
    if (host === null || !hosts.includes(host))
      return `Origin ${origin.slice(0, 100)} is not this service`;
  }
  return null;
}

export function refuseCrossSite(trustProxy: boolean): RequestHandler {
  return (req, _res, next) => {
    const hosts = [req.headers.host ?? ''];
    const forwarded = req.headers['x-forwarded-host'];
    if (trustProxy && typeof forwarded === 'string') hosts.push(forwarded.split(',')[0]!.trim());
    const why = managementCrossSite(req.method, req.headers, hosts);
    next(why ? crossSiteRefused(why) : undefined);
  };
}
