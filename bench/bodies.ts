// go-auth-shaped requests, byte for byte as the plugin sends them: json mode marshals a Go
// map (keys sorted, `acc` a number), form mode url.Values.Encode (keys sorted, `acc` a string).
import type { OutgoingHttpHeaders } from 'node:http';

export type BodyMode = 'json' | 'form';

export interface CheckFields {
  username: string;
  password?: string;
  clientid?: string;
  topic?: string;
  acc?: number;
}

/** One prepared request: what both load generators send. */
export interface CheckRequest {
  path: string;
  headers: OutgoingHttpHeaders;
  body: string;
}

const HEADERS: Record<BodyMode, OutgoingHttpHeaders> = {
  json: {
    'content-type': 'application/json',
    'user-agent': 'mosquitto-2.0.11',
    'accept-encoding': 'gzip',
  },
  form: {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Go-http-client/1.1',
    'accept-encoding': 'gzip',
  },
};

export function encodeBody(mode: BodyMode, fields: CheckFields): string {
  const entries = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (mode === 'json') return JSON.stringify(Object.fromEntries(entries));
  return new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
}

export function checkRequest(path: string, mode: BodyMode, fields: CheckFields): CheckRequest {
  return { path, headers: HEADERS[mode], body: encodeBody(mode, fields) };
}
