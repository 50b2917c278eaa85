// A steady load of broker checks and registrations against one or more service ports while a
// test fails Redis over: records every answer with its time, so a test can state what was
// answered meanwhile and when service came back.
import { ADMIN_AUTH } from './service';
import { JSON_HEADERS, rawRequest } from './http';

export interface LoadOptions {
  ports: number[];
  /** Devices that exist (id = password) and should keep being allowed. */
  devices: string[];
  /** A device deleted before the failover: must never be allowed. */
  gone: string;
  /** Register a new device every so often, through the management API of ports[0]. */
  registerEveryMs?: number;
}

export interface Answer {
  at: number;
  port: number;
  kind: 'check' | 'gone' | 'register';
  status: number;
  id?: string;
}

export interface Load {
  answers: Answer[];
  /** Ids whose registration was acknowledged (201). */
  acked(): string[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A user check of `id` with `password` (default: the id); status 0 when nothing answered. */
export const login = (port: number, id: string, password = id) =>
  rawRequest(
    port,
    'POST',
    '/mqtt/user',
    JSON.stringify({ username: id, password, clientid: `c-${id}` }),
    JSON_HEADERS,
  ).catch(() => ({ status: 0 }));

export function startLoad(opts: LoadOptions): Load {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const checker = async (port: number) => {
    while (running) {
      const id = opts.devices[n++ % opts.devices.length] as string;
      const ok = await login(port, id, id);
      answers.push({ at: Date.now(), port, kind: 'check', status: ok.status });
      const gone = await login(port, opts.gone, opts.gone);
      answers.push({ at: Date.now(), port, kind: 'gone', status: gone.status });
      await sleep(5);
    }
  };
  let seq = 0;
  const run = Math.random().toString(36).slice(2, 8);
  const registrar = async () => {
    const port = opts.ports[0] as number;
    while (running) {
      const id = `reg-${run}-${seq++}`;
      const res = await rawRequest(
        port,
        'POST',
        '/api/v1/devices',
        JSON.stringify({ id, password: `${id}-password` }),
        { ...JSON_HEADERS, ...ADMIN_AUTH },
      ).catch(() => ({ status: 0 }));
      answers.push({ at: Date.now(), port, kind: 'register', status: res.status, id });
      if (res.status !== 201 && process.env.DEBUG_LOAD)
        console.log(res.status, 'body' in res ? res.body : '');
      await sleep(opts.registerEveryMs ?? 20);
    }
  };
  const workers = [...opts.ports.flatMap((p) => [checker(p), checker(p)]), registrar()];
  return {
    answers,
    acked: () => answers.filter((a) => a.kind === 'register' && a.status === 201).map((a) => a.id!),
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

export interface FailoverFigures {
  /** From the fault to the first check answered 200 after the first non-200 (ms). */
  checksBackMs: number | null;
  /** From the fault to the first registration answered 201 after the first non-201 (ms). */
  writesBackMs: number | null;
  /** Checks answered with each status between the fault and checksBack. */
  statuses: Record<string, number>;
}

/** What the answers of `port` (all ports when omitted) say about a fault at `faultAt`. */
export function figures(answers: Answer[], faultAt: number, port?: number): FailoverFigures {
  const after = answers.filter((a) => a.at >= faultAt && (port === undefined || a.port === port));
  const backAt = (kind: Answer['kind'], ok: number) => {
    const firstBad = after.find((a) => a.kind === kind && a.status !== ok);
    if (!firstBad) return null;
    const back = after.find((a) => a.kind === kind && a.at > firstBad.at && a.status === ok);
    return back ? back.at - faultAt : null;
  };
  const checksBackMs = backAt('check', 200);
  const statuses: Record<string, number> = {};
  for (const a of after) {
    if (a.kind !== 'check') continue;
    if (checksBackMs !== null && a.at - faultAt >= checksBackMs) break;
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  }
  return { checksBackMs, writesBackMs: backAt('register', 201), statuses };
}
