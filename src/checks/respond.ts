// The three answer encodings go-auth understands. Pure: a decision in, status and body out.
import type { ResponseMode } from '../config';

export interface Encoded {
  status: number;
  contentType: string;
  body: string;
}

const OK_JSON = '{"ok":true,"error":""}';

/**
 * status 200 allows in every mode; 4xx denies (the plugin caches it); 5xx is an error (the
 * plugin retries, never caches, and never allows). text mode allows on exactly `ok`.
 */
export function encodeAnswer(mode: ResponseMode, status: number, reason: string): Encoded {
  const allow = status === 200;
  if (mode === 'json') {
    return {
      status,
      contentType: 'application/json',
      body: allow ? OK_JSON : JSON.stringify({ ok: false, error: reason }),
    };
  }
  if (mode === 'text') {
    return { status, contentType: 'text/plain; charset=utf-8', body: allow ? 'ok' : reason };
  }
  // status mode: the plugin reads only the status. Plain denials (the hot path) carry no body,
  // their reason is in the debug log; malformed requests and errors say what went wrong.
  const body = allow || status === 403 ? '' : reason;
  return { status, contentType: 'text/plain; charset=utf-8', body };
}
