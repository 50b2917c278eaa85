// POST /mqtt/records, POST /mqtt/records/page and GET /mqtt/common on the check listener: the
// records the broker plugin decides with (docs/broker-protocol.md, Records). They carry
// password hashes' verifiers, so they need the broker credential and are refused (403)
// while BROKER_TOKEN_SHA256 is unset; server.ts has refused browser requests already.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Config } from '../config';
import { AppError, StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { CredentialStore } from '../store/credential-store';
import type { LockoutStore } from '../store/lockout-store';
import { brokerAuth } from './events-stream';
import { indexMember } from './login-throttle';
import { decodePosition, encodePosition } from './records-cursor';
import { RECORDS_VERSION, toWire, type WireLimits, type WireRecord } from './records';
import { sendJson } from './json-reply';

export const RECORDS_PATH = '/mqtt/records';
export const RECORDS_PAGE_PATH = '/mqtt/records/page';
export const COMMON_PATH = '/mqtt/common';
export const MAX_NAMES = 100;
export const MAX_PAGE = 1000;
/** A page stops early once its answer is this large (records with many rules). */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

// Unknown fields are ignored (forward compatibility), as the protocol says.
const recordsBody = z.object({
  usernames: z.array(z.string().min(1)).min(1).max(MAX_NAMES),
});
const pageBody = z.object({
  cursor: z.string().max(4096).nullable().optional(),
  limit: z.number().int().min(1).max(MAX_PAGE),
});

export interface RecordsHandlerDeps {
  config: Pick<
    Config,
    | 'BROKER_TOKEN_SHA256'
    | 'CHECK_BODY_LIMIT_BYTES'
    | 'CHECK_BODY_TIMEOUT_MS'
    | 'PASSWD_ITERATIONS'
    | 'PASSWD_MAX_ITERATIONS'
  >;
  store: Pick<CredentialStore, 'getUsers' | 'namesAfter' | 'getCommonAcl'>;
  lockouts: Pick<LockoutStore, 'endsOf'>;
  logger: Logger;
}

const ROUTES: Record<string, 'POST' | 'GET'> = {
  [RECORDS_PATH]: 'POST',
  [RECORDS_PAGE_PATH]: 'POST',
  [COMMON_PATH]: 'GET',
};

const fail = (res: ServerResponse, status: number, error: string, headers = {}) =>
  sendJson(res, status, { ok: false, error }, headers);

class BadInput extends Error {}

/** The request body as JSON, within CHECK_BODY_LIMIT_BYTES and CHECK_BODY_TIMEOUT_MS. */
function readJson(req: IncomingMessage, limit: number, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => reject(new BadInput('408')), timeoutMs);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        clearTimeout(timer);
        reject(new BadInput('413'));
      } else chunks.push(c);
    });
    req.on('error', () => reject(new BadInput('400 request aborted')));
    req.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new BadInput('400 body is not valid JSON'));
      }
    });
  });
}

const issue = (e: z.ZodError): string => {
  const i = e.issues[0];
  return `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`;
};

/** The handler: false for paths that are not the records endpoints (others take those). */
export function createRecordsHandler(deps: RecordsHandlerDeps) {
  const { config, store, lockouts, logger } = deps;
  const authorized = brokerAuth(config.BROKER_TOKEN_SHA256);
  const limits: WireLimits = {
    padTo: config.PASSWD_ITERATIONS,
    maxIterations: config.PASSWD_MAX_ITERATIONS,
  };

  async function wire(names: string[]): Promise<WireRecord[]> {
    const [recs, ends] = await Promise.all([
      store.getUsers(names),
      lockouts.endsOf(names.map((n) => indexMember('username', n))),
    ]);
    const now = Date.now();
    return names.map((n, i) => {
      const end = ends[i] ?? null;
      return toWire(n, recs[i] ?? null, end === null ? 0 : end - now, limits);
    });
  }

  async function page(body: z.infer<typeof pageBody>) {
    const after = body.cursor ? decodePosition(body.cursor) : null;
    const positions = await store.namesAfter(after, body.limit);
    const all = await wire(positions.map((p) => p.name as string));
    const records: WireRecord[] = [];
    let bytes = 0;
    let last = -1;
    for (let i = 0; i < all.length; i++) {
      const r = all[i] as WireRecord;
      last = i;
      if (!r.known) continue; // deleted since it was listed
      bytes += JSON.stringify(r).length;
      records.push(r);
      if (bytes > MAX_PAGE_BYTES) break;
    }
    const more = last < all.length - 1 || positions.length === body.limit;
    const at = positions[last];
    return { v: RECORDS_VERSION, records, next: more && at ? encodePosition(at) : null };
  }

  async function answer(path: string, req: IncomingMessage): Promise<object> {
    if (path === COMMON_PATH) {
      req.resume();
      return { v: RECORDS_VERSION, acl: await store.getCommonAcl() };
    }
    const raw = await readJson(req, config.CHECK_BODY_LIMIT_BYTES, config.CHECK_BODY_TIMEOUT_MS);
    if (path === RECORDS_PATH) {
      const body = recordsBody.safeParse(raw);
      if (!body.success) throw new BadInput(`400 ${issue(body.error)}`);
      return { v: RECORDS_VERSION, records: await wire(body.data.usernames) };
    }
    const body = pageBody.safeParse(raw);
    if (!body.success) throw new BadInput(`400 ${issue(body.error)}`);
    return page(body.data);
  }

  return function handleRecords(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = ROUTES[path];
    if (!method) return false;
    if (!authorized) {
      req.resume();
      fail(res, 403, 'records need BROKER_TOKEN_SHA256');
      return true;
    }
    if (!authorized(req.headers.authorization)) {
      req.resume();
      fail(res, 401, 'a broker credential is required (Authorization: Bearer)', {
        'WWW-Authenticate': 'Bearer realm="mqtt-authd-records"',
      });
      return true;
    }
    if (req.method !== method) {
      req.resume();
      fail(res, 405, `method must be ${method}`, { Allow: method });
      return true;
    }
    answer(path, req).then(
      (body) => sendJson(res, 200, body),
      (err: unknown) => {
        if (err instanceof BadInput) {
          const status = Number(err.message.slice(0, 3));
          const text =
            err.message.slice(4) ||
            (status === 413 ? 'body too large' : 'body not complete in time');
          if (status !== 400) res.setHeader('Connection', 'close');
          fail(res, status, text);
          if (status !== 400) req.socket.destroySoon();
        } else if (err instanceof AppError && err.code === 'bad_request') {
          fail(res, 400, err.message);
        } else if (
          err instanceof StoreUnavailableError ||
          (err instanceof AppError && err.code === 'store_unavailable')
        ) {
          fail(res, 503, 'credential store unavailable');
        } else {
          logger.error({ err, path }, 'records request failed unexpectedly');
          fail(res, 500, 'internal error');
        }
      },
    );
    return true;
  };
}
