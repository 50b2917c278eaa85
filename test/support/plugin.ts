// The Mosquitto plugin (mosquitto/plugin) on real processes: built by make, loaded by a real
// Mosquitto 2.0.11 in front of the built service (dist/), MQTT v5 clients so that reason codes
// are visible. Used by test/plugin/* and bench/plugin.ts.
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { JSON_HEADERS, rawRequest, type Answer } from './http';
import {
  commandSync,
  ROOT,
  runCommand,
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
  type ServiceProcess,
} from './processes';
import { cleanTestPrefix, testRedisEnv } from './topology';

export const PLUGIN_DIR = path.join(ROOT, 'mosquitto', 'plugin');
export const PLUGIN_SO = path.join(PLUGIN_DIR, 'mqtt-authd.so');
const ADMIN_TOKEN = 'plugin-admin-token-0123456789';

/** `make -C mosquitto/plugin` (nothing to do when it is up to date). */
export async function buildPlugin(): Promise<void> {
  const r = await runCommand('make', ['-s', '-C', PLUGIN_DIR], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`make -C mosquitto/plugin failed:\n${r.stdout}${r.stderr}`);
}

/** mosquitto.conf lines loading the plugin (no comment after a value: it would be read too). */
export function pluginConfig(url: string, opts: Record<string, string | number> = {}): string {
  return [
    `plugin ${PLUGIN_SO}`,
    `plugin_opt_url ${url}`,
    ...Object.entries(opts).map(([k, v]) => `plugin_opt_${k} ${v}`),
    'allow_anonymous false',
  ].join('\n');
}

/** Whether valgrind is installed (scripts/setup.sh --test installs it); tests under it skip otherwise. */
export const HAVE_VALGRIND = commandSync('valgrind', ['--version']).code === 0;

/** valgrind in front of the broker: any error or definite leak makes it exit 99. */
export const VALGRIND = [
  'valgrind',
  '--error-exitcode=99',
  '--leak-check=full',
  '--errors-for-leak-kinds=definite,indirect',
  '--show-leak-kinds=definite,indirect',
  '--track-origins=yes',
  '--num-callers=30',
];

/** A broker token written into `dir` (mode 0600): the plugin option and the service's verifier. */
export async function brokerToken(dir: string) {
  const token = randomBytes(24).toString('base64url');
  const file = path.join(dir, 'broker-token');
  await writeFile(file, `${token}\n`, { mode: 0o600 }); // a trailing newline, as echo writes
  return {
    token,
    pluginOpts: { token_file: file },
    serviceEnv: { BROKER_TOKEN_SHA256: createHash('sha256').update(token).digest('hex') },
  };
}

/** Stops a broker run under VALGRIND: throws valgrind's report unless it exited clean. */
export async function stopValgrindClean(broker: MosquittoProcess): Promise<void> {
  await broker.stop();
  const exit = await broker.exited;
  const report = broker
    .logs()
    .split('\n')
    .filter((l) => /^==\d+==/.test(l))
    .join('\n');
  if (exit.code !== 0) throw new Error(`valgrind exit ${JSON.stringify(exit)}:\n${report}`);
  if (!/ERROR SUMMARY: 0 errors/.test(report)) throw new Error(`valgrind:\n${report}`);
}

export interface PluginStack {
  service: ServiceProcess;
  broker: MosquittoProcess;
  prefix: string;
  /** The management API as the admin. */
  api(method: string, apiPath: string, body?: unknown): Promise<Answer>;
  /** Stops the service (SIGTERM) and starts it again on the same port. */
  stopService(): Promise<void>;
  startServiceAgain(): Promise<void>;
  /** Resolves once the broker logged that the event stream is up (after `fromIndex`). */
  streamUp(fromIndex?: number, ms?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface PluginStackOptions {
  name: string;
  pluginOpts?: Record<string, string | number>;
  serviceEnv?: Record<string, string>;
  /** Run the broker under this wrapper (VALGRIND). */
  wrapper?: string[];
  /** Wait for the event stream before returning (default true). */
  waitStream?: boolean;
}

export async function startPluginStack(opts: PluginStackOptions): Promise<PluginStack> {
  await buildPlugin();
  const prefix = testPrefix(opts.name);
  const env: Record<string, string> = {
    ...testRedisEnv(),
    REDIS_KEY_PREFIX: prefix,
    ADMIN_TOKENS: `plugin-admin:${ADMIN_TOKEN}`,
    PASSWD_ITERATIONS: '101',
    AUTH_FAIL_LIMIT: '100000',
    ...opts.serviceEnv,
  };
  let service = await startService({ env });
  const fixedEnv = { ...env, PORT: String(service.port) };
  const slow = opts.wrapper !== undefined;
  let broker: MosquittoProcess;
  try {
    broker = await startMosquitto({
      config: pluginConfig(service.url, opts.pluginOpts),
      wrapper: opts.wrapper,
      timeoutMs: slow ? 60_000 : 10_000,
    });
  } catch (err) {
    await service.stop();
    await cleanTestPrefix(prefix);
    throw err;
  }
  const streamUp = (fromIndex = 0, ms = slow ? 30_000 : 10_000) =>
    broker.waitForLog(/mqtt-authd: event stream up/, ms, fromIndex);
  if (opts.waitStream !== false) await streamUp();
  const headers = { ...JSON_HEADERS, Authorization: `Bearer ${ADMIN_TOKEN}` };
  return {
    get service() {
      return service;
    },
    broker,
    prefix,
    api: (method, apiPath, body) =>
      rawRequest(
        service.port,
        method,
        `/api/v1${apiPath}`,
        body === undefined ? '' : JSON.stringify(body),
        headers,
      ),
    async stopService() {
      await service.stop();
    },
    async startServiceAgain() {
      service = await startService({ env: fixedEnv });
    },
    streamUp,
    async stop() {
      await broker.stop();
      await service.stop();
      await cleanTestPrefix(prefix);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MQTT v5 clients

export interface Connected {
  /** 0 on success, the CONNACK reason code, or 'closed' when no CONNACK came. */
  code: number | 'closed';
  client?: MqttClient;
}

/** Connects once (no reconnect); never rejects. */
export function connectV5(
  port: number,
  username: string,
  password: string,
  clientId: string,
): Promise<Connected> {
  return new Promise((resolve) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      username,
      password,
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      clean: true,
    });
    let done = false;
    const finish = (r: Connected) => {
      if (done) return;
      done = true;
      if (!r.client) client.end(true);
      resolve(r);
    };
    client.once('connect', () => finish({ code: 0, client }));
    client.once('error', (err: Error & { code?: unknown }) =>
      finish({ code: typeof err.code === 'number' ? err.code : 'closed' }),
    );
    client.once('close', () => finish({ code: 'closed' }));
  });
}

/** A connected client or a thrown error naming the reason code. */
export async function mustConnect(port: number, user: string, pass: string, clientId: string) {
  const r = await connectV5(port, user, pass, clientId);
  if (!r.client) throw new Error(`${user}/${clientId} could not connect: ${r.code}`);
  return r.client;
}

/** PUBACK reason code of a QoS 1 publish: 0 granted (mqtt.js hides 16, no subscribers), 135 not authorized. */
export function publishCode(client: MqttClient, topic: string, payload = 'x'): Promise<number> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos: 1 }, (err, packet) => {
      if (!err) resolve((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
      else if (typeof (err as { code?: unknown }).code === 'number')
        resolve((err as unknown as { code: number }).code);
      else reject(err);
    });
  });
}

/** SUBACK reason code of one subscription (0..2 granted QoS, 135 not authorized). */
export function subscribeCode(client: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve, reject) => {
    client.subscribe(filter, { qos: 0 }, (err, _granted, packet) => {
      // a refused subscription is an error; the SUBACK packet still carries its code
      const code = (packet as { granted?: number[] } | undefined)?.granted?.[0];
      if (typeof code === 'number') resolve(code);
      else reject(err ?? new Error('no SUBACK code'));
    });
  });
}

/** Resolves with Date.now() when the client's connection closes. */
export function closedAt(client: MqttClient): Promise<number> {
  return new Promise((resolve) => {
    if (!client.connected) resolve(Date.now());
    client.once('close', () => resolve(Date.now()));
  });
}
