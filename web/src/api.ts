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

export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  token = session.token(),
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
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
export type { AclRule, Device, DeviceList, DeviceWithPassword } from '../../src/contract/devices';
export type { AuditEntry, AuditPage } from '../../src/contract/audit';
export type { CheckCounts, CheckStats, DecideAnswer } from '../../src/contract/decide';
export type { ExportStatus } from '../../src/contract/export';
export type { Lockout, LockoutPage } from '../../src/contract/lockouts';
