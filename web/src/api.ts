// The management API as the console calls it: the admin token lives in sessionStorage (this
// tab only, gone when it closes) and travels only as the Bearer header. A 401 signs out.
const KEY = 'mqtt-authd.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

type Listener = (token: string | null, why?: string) => void;
const listeners = new Set<Listener>();

export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token);
    for (const l of listeners) l(token);
  },
  signOut(why?: string): void {
    sessionStorage.removeItem(KEY);
    for (const l of listeners) l(null, why);
  },
  subscribe(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

/** A fresh Idempotency-Key (getRandomValues: randomUUID needs a secure context). */
function idempotencyKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Worth sending again with the same key: no answer, a failover, an unconfirmed write. */
const retriable = (e: unknown) =>
  e instanceof ApiError &&
  (e.status === 0 || e.status === 503 || e.code === 'idempotency_in_flight');

/**
 * One user action. A write carries an Idempotency-Key of its own, and is sent again with the
 * same key (a few times, a second apart) when the answer was lost or the store was failing
 * over: the service then gives the first attempt's answer (a generated password included)
 * instead of a second device or a 409.
 */
export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  token = session.token(),
): Promise<T> {
  if (method === 'GET') return send<T>(method, path, body, token);
  const key = idempotencyKey();
  for (let attempt = 1; ; attempt++) {
    try {
      return await send<T>(method, path, body, token, key);
    } catch (e) {
      if (!retriable(e) || attempt >= 4) throw e;
      await sleep(1000);
    }
  }
}

async function send<T>(
  method: string,
  path: string,
  body: unknown,
  token: string | null,
  key?: string,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) headers['Idempotency-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service did not answer. Is mqtt-authd running?');
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => null)) as {
    error?: { code: string; message: string; details?: unknown };
  } | null;
  if (res.ok) return json as T;
  const e = json?.error;
  const err = new ApiError(
    res.status,
    e?.code ?? 'error',
    e?.message ?? `The service answered ${res.status}.`,
    Array.isArray(e?.details) ? (e.details as { field: string; message: string }[]) : [],
  );
  if (res.status === 401 && token === session.token()) {
    session.signOut('The service refused the token (401). Sign in again.');
  }
  throw err;
}

export const enc = encodeURIComponent;

// The API's bodies, from the server's contract (type-only: nothing of src/ is bundled).
export type {
  AclRule,
  Device,
  DeviceList,
  DeviceWithPassword,
  ListedDevice,
} from '../../src/contract/devices';
export type {
  BrokerPresence,
  DisconnectAnswer,
  PresenceAnswer,
  Session,
  SessionList,
} from '../../src/contract/sessions';
export type { AuditEntry, AuditPage } from '../../src/contract/audit';
export type { CheckCounts, CheckStats, DecideAnswer } from '../../src/contract/decide';
export type { ExportStatus } from '../../src/contract/export';
export type { Lockout, LockoutPage } from '../../src/contract/lockouts';
