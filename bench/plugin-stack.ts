// What bench/plugin.ts measures against: one service (own Redis key prefix) with the bench
// devices registered and exported as passwd + acl_file, and brokers of both kinds started on
// demand from the same binary: one loading mqtt-authd.so, one reading the exported files.
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pool, rawRequest, JSON_HEADERS, type Answer } from '../test/support/http';
import { buildPlugin, pluginConfig } from '../test/support/plugin';
import {
  cleanPrefix,
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
  type ServiceProcess,
} from '../test/support/processes';
import type { Device } from './plugin-load';

const TOKEN = 'bench-plugin-token-0123456789';
export type BrokerKind = 'plugin' | 'files';

/** Devices may use their own tree and publish under `bench/<id>/`; the backend reads `bench/#`. */
export const DEVICE_ACL = [
  { pattern: '%u/#', access: 'readwrite' },
  { pattern: 'bench/%u/#', access: 'write' },
];
export const BACKEND: Device = { id: 'bp-backend', password: 'bench-plugin-backend-4f9d' };

/**
 * The broker credential both sides are given (BROKER_TOKEN_SHA256, plugin_opt_token_file):
 * the records endpoint a policy-holding plugin reads refuses a broker without it.
 */
export async function brokerCredential(dir: string) {
  const token = 'bench-plugin-broker-credential-7c1e';
  const file = path.join(dir, 'broker-token');
  await writeFile(file, `${token}\n`, { mode: 0o644 });
  return {
    env: { BROKER_TOKEN_SHA256: createHash('sha256').update(token).digest('hex') },
    opts: { token_file: file },
  };
}

export interface BenchStack {
  service: ServiceProcess;
  /** plugin_opt_token_file for a broker of this stack's service. */
  credential: Record<string, string>;
  devices: Device[];
  api(method: string, p: string, body?: unknown): Promise<Answer>;
  /** A fresh broker of that kind (the caller stops it). */
  start(kind: BrokerKind, pluginOpts?: Record<string, string | number>): Promise<MosquittoProcess>;
  /** The broker of that kind shared by the workloads (started once). */
  shared(kind: BrokerKind): Promise<MosquittoProcess>;
  stop(): Promise<void>;
}

export async function startBenchStack(o: {
  redisUrl: string;
  broker: string;
  devices: number;
}): Promise<BenchStack> {
  await buildPlugin();
  const prefix = testPrefix('bench-plugin');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'authd-bench-plugin-'));
  await chmod(dir, 0o755);
  const running: MosquittoProcess[] = [];
  const credential = await brokerCredential(dir);
  const service = await startService({
    env: {
      REDIS_URL: o.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKENS: `bench:${TOKEN}`,
      PASSWD_FILE: path.join(dir, 'passwd'),
      ACL_FILE: path.join(dir, 'acl'),
      MOSQUITTO_RELOAD: 'none',
      AUTH_FAIL_LIMIT: '1000000',
      ...credential.env,
    },
  });
  const api = (method: string, p: string, body?: unknown) =>
    rawRequest(
      service.port,
      method,
      `/api/v1${p}`,
      body === undefined ? '' : JSON.stringify(body),
      {
        ...JSON_HEADERS,
        Authorization: `Bearer ${TOKEN}`,
      },
    );
  const stop = async () => {
    for (const b of running) await b.stop();
    await service.stop();
    await cleanPrefix(o.redisUrl, prefix);
    await rm(dir, { recursive: true, force: true });
  };
  const devices: Device[] = Array.from({ length: o.devices }, (_, i) => ({
    id: `bp-${i}`,
    password: `bench-plugin-pw-${i}-4f9d`,
  }));
  try {
    await pool(devices, 8, async (d) => {
      const r = await api('POST', '/devices', { id: d.id, password: d.password, acl: DEVICE_ACL });
      if (r.status !== 201) throw new Error(`create ${d.id}: ${r.status} ${r.body}`);
    });
    const b = await api('POST', '/devices', {
      ...BACKEND,
      acl: [{ pattern: 'bench/#', access: 'read' }],
    });
    if (b.status !== 201) throw new Error(`create ${BACKEND.id}: ${b.status} ${b.body}`);
    const exported = await api('POST', '/export');
    if (exported.status !== 200) throw new Error(`export: ${exported.status} ${exported.body}`);
  } catch (err) {
    await stop();
    throw err;
  }
  const start = async (kind: BrokerKind, pluginOpts: Record<string, string | number> = {}) => {
    const broker =
      kind === 'plugin'
        ? await startMosquitto({
            config: pluginConfig(service.url, { ...credential.opts, ...pluginOpts }),
            bin: o.broker,
          })
        : await startMosquitto({
            config: [`password_file ${path.join(dir, 'passwd')}`, `acl_file ${path.join(dir, 'acl')}`, 'allow_anonymous false'].join('\n'), // prettier-ignore
            bin: o.broker,
          });
    running.push(broker);
    if (kind === 'plugin') await broker.waitForLog(/mqtt-authd: event stream up/, 10_000);
    return broker;
  };
  const shared = new Map<BrokerKind, MosquittoProcess>();
  return {
    service,
    credential: credential.opts,
    devices,
    api,
    start,
    async shared(kind) {
      const have = shared.get(kind);
      if (have?.isRunning()) return have;
      const b = await start(kind);
      shared.set(kind, b);
      return b;
    },
    stop,
  };
}
