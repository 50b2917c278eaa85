// Hostile scenarios run at two sizes: small in `npm test` (CI), large in `npm run stress`
// (STRESS_SIZE=full). One code path; only the numbers differ.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, JSON_HEADERS, send, type Answer, type RequestOptions } from './http';
import { startService, testPrefix, type ServiceProcess } from './processes';
import { cleanTestPrefix, TEST_REDIS_URL, testRedisEnv } from './topology';
export const FULL = process.env.STRESS_SIZE === 'full';

/** The CI or the full-size value of each knob. */
export const sized = <T>(ci: T, full: T): T => (FULL ? full : ci);

/** fast-check seed: FC_SEED replays a failure. */
export const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

/** Broken guarantees seen during the load, the first few of each kind, the rest counted. */
export class Faults {
  private readonly counts = new Map<string, number>();
  private readonly examples: string[] = [];

  add(kind: string, detail: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= 5) this.examples.push(`${kind}: ${detail}`);
  }

  /** Asserted empty at the end of every scenario. */
  list(): string[] {
    const more = [...this.counts].filter(([, n]) => n > 5).map(([k, n]) => `${k}: ${n - 5} more`);
    return [...this.examples, ...more];
  }
}

/** Prints a scenario's figures (the stress run's report; docs/guarantees.md quotes them). */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`${scenario} (${FULL ? 'full' : 'ci'} size)\n${JSON.stringify(figures, null, 2)}`);
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** What every scenario sets up: a key prefix, an export directory, an admin token, services. */
export interface Stage {
  redisUrl: string;
  prefix: string;
  passwdPath: string;
  aclPath: string;
  token: string;
  /** The service environment: this Redis and prefix, the token, the export files, cheap
   *  hashing, and no lockouts (wrong passwords are part of every load). */
  env: Record<string, string>;
  start(): Promise<ServiceProcess>;
  /** A management call with the admin token; never rejects (status 0: no answer). */
  api(port: number, method: string, path: string, body?: object | string, opts?: RequestOptions): Promise<Answer>;
  /** A /mqtt/user check. */
  login(port: number, username: string, password: string, agent?: http.Agent): Promise<Answer>;
  /** Stops every service started, removes the keys and the files. */
  close(): Promise<void>;
} // prettier-ignore

export async function stage(name: string, env: Record<string, string> = {}): Promise<Stage> {
  const redisUrl = env.REDIS_URL ?? TEST_REDIS_URL;
  const prefix = testPrefix(name);
  const dir = await mkdtemp(join(tmpdir(), `authd-${name}-`));
  const token = `${name}-admin-${randomBytes(12).toString('hex')}`;
  const services: ServiceProcess[] = [];
  const st: Stage = {
    redisUrl,
    prefix,
    token,
    passwdPath: join(dir, 'passwd'),
    aclPath: join(dir, 'acl'),
    env: {
      // The shared test Redis of this jest project (standalone, or the cluster), unless given.
      ...(env.REDIS_URL ? { REDIS_URL: redisUrl } : testRedisEnv()),
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKENS: `stress:${token}`,
      PASSWD_FILE: join(dir, 'passwd'),
      ACL_FILE: join(dir, 'acl'),
      PASSWD_ITERATIONS: '101',
      EXPORT_DEBOUNCE_MS: '50',
      EXPORT_MAX_DELAY_MS: '300',
      AUTH_FAIL_LIMIT: '1000000',
      ...env,
    },
    async start() {
      const svc = await startService({ env: st.env });
      services.push(svc);
      return svc;
    },
    api: (port, method, path, body, opts) =>
      send(port, `/api/v1${path}`, {
        method,
        body: typeof body === 'string' ? body : body ? JSON.stringify(body) : '',
        ...opts,
        headers: { ...bearer(token), ...opts?.headers },
      }),
    login: (port, username, password, agent) =>
      send(port, '/mqtt/user', {
        body: JSON.stringify({ username, password, clientid: 'c' }),
        headers: JSON_HEADERS,
        agent,
      }),
    async close() {
      await Promise.all(services.map((s) => s.stop()));
      if (!env.REDIS_URL) await cleanTestPrefix(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return st;
}
