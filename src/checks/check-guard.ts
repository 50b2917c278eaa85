// The door of the check listener. mosquitto-go-auth's HTTP backend never sends `Origin` or a
// `Sec-Fetch-*` header; a browser always does (Fetch standard, "append a request `Origin`
// header" and Fetch Metadata). So a request to a check path that carries one comes from a web
// page — which could otherwise POST a `text/plain` body (a "simple" request, no preflight) and
// lock a device out by failing its logins. Refused here, before any body is read or any failure
// counted. server.ts sends every request under CHECK_PATH_PREFIX through refuseCrossSite(),
// whichever handler then takes it (the checks, or a stream such as GET /mqtt/events).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export const CHECK_PATH_PREFIX = '/mqtt/';

/** Why a request with these headers cannot come from the broker plugin, or null. */
export function crossSiteReason(headers: IncomingHttpHeaders): string | null {
  if (headers.origin !== undefined)
    return 'requests carrying Origin are refused (a browser sent it)';
  for (const name in headers) {
    if (name.startsWith('sec-fetch-'))
      return `requests carrying ${name} are refused (a browser sent it)`;
  }
  return null;
}

/** Answers 403 and returns true when the request came from a browser; false otherwise. */
export function refuseCrossSite(req: IncomingMessage, res: ServerResponse): boolean {
  const reason = crossSiteReason(req.headers);
  if (reason === null) return false;
  req.resume();
  const body = JSON.stringify({ ok: false, error: `forbidden: ${reason}` });
  res.writeHead(403, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  res.end(body);
  return true;
}
