// Workload (f) of bench/plugin.ts: the broker's resident memory per device when it holds the
// whole fleet. N one-rule devices (`devices/%u/#`, one `$7$` hash) go straight into Redis;
// the plugin broker starts with `plugin_opt_preload true` and is read once it logged the
// preload done and its RSS stopped growing; the files broker reads the passwd + acl_file exported for the same N. Per device:
// (RSS − the same broker holding nothing) ÷ N, and the slope between the two sizes.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hashPassword } from '../src/domain/passwd-hash';
import { createKeys } from '../src/store/keys';
import { JSON_HEADERS, send, sleep } from '../test/support/http';
import { pluginConfig } from '../test/support/plugin';
import {
  cleanPrefix,
  startMosquitto,
  startService,
  testPrefix,
  type MosquittoProcess,
} from '../test/support/processes';
import { bulkLoad } from './bulk-load';
import { brokerCredential } from './plugin-stack';

const TOKEN = 'bench-plugin-rss-token-0123456789';
export const FILES_READY_MS = 120_000;

export interface RssRow {
  devices: number;
  /** KiB; null: the plugin refused `preload` (this build cannot hold the fleet). */
  plugin: number | null;
  /** KiB; null: the files broker was not listening within FILES_READY_MS. */
  files: number | null;
  pluginBase: number;
  filesBase: number;
  preloadSeconds: number | null;
}

export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Waits until the RSS has not moved by more than 64 KiB for 2 s (at most `ms`). */
async function settledRss(pid: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let last = await rssKiB(pid);
  for (let still = 0; still < 8 && Date.now() < until;) {
    await sleep(250);
    const now = await rssKiB(pid);
    still = Math.abs(now - last) <= 64 ? still + 1 : 0;
    last = now;
  }
  return last;
}

const NOT_SUPPORTED = /preload.*is not an option of this plugin|is not an option of this plugin/;

export async function measureRss(
  redisUrl: string,
  broker: string,
  n: number,
  base: { plugin: number; files: number },
): Promise<RssRow> {
  const prefix = testPrefix('bench-plugin-rss');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'authd-bench-rss-'));
  await chmod(dir, 0o755);
  const brokers: MosquittoProcess[] = [];
  try {
    const hash = await hashPassword('bench-plugin-rss-pw-4f9d', { iterations: 1000, saltBytes: 12 }); // prettier-ignore
    const acl = [{ pattern: 'devices/%u/#', access: 'readwrite' as const }];
    await bulkLoad(redisUrl, createKeys(prefix), n, (i) => ({ name: `rss-${i}`, hash, superuser: false, acl }), []); // prettier-ignore
    const credential = await brokerCredential(dir);
    const files = { passwd: path.join(dir, 'passwd'), acl: path.join(dir, 'acl') };
    const service = await startService({
      env: { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, ADMIN_TOKENS: `bench:${TOKEN}`, PASSWD_FILE: files.passwd, ACL_FILE: files.acl, MOSQUITTO_RELOAD: 'none', ...credential.env }, // prettier-ignore
    });
    try {
      const headers = { ...JSON_HEADERS, Authorization: `Bearer ${TOKEN}` };
      const exported = await send(service.port, '/api/v1/export', { method: 'POST', headers, timeoutMs: 300_000 }); // prettier-ignore
      if (exported.status !== 200) throw new Error(`export: ${exported.status} ${exported.body}`);
      let plugin: number | null = null;
      let preloadSeconds: number | null = null;
      const started = performance.now();
      try {
        const p = await startMosquitto({ config: pluginConfig(service.url, { ...credential.opts, preload: 'true' }), bin: broker }); // prettier-ignore
        brokers.push(p);
        // policy_sync.c logs "preloaded N records in T ms" once the whole fleet is held
        const at = await p.waitForLog(/mqtt-authd: preloaded \d+ records in \d+ ms/, 600_000);
        const m = /preloaded (\d+) records in (\d+) ms/.exec(p.logs().slice(0, at));
        if (Number(m?.[1]) < n)
          throw new Error(`preloaded ${m?.[1]} of ${n} records:\n${p.logs()}`);
        preloadSeconds = m ? Number(m[2]) / 1000 : (performance.now() - started) / 1000;
        plugin = await settledRss(p.pid, 60_000);
      } catch (err) {
        if (!NOT_SUPPORTED.test(String(err))) throw err;
      }
      for (const b of brokers.splice(0)) await b.stop(); // one broker at a time on 2 cores
      let filesKiB: number | null = null;
      try {
        const f = await startMosquitto({ config: `password_file ${files.passwd}\nacl_file ${files.acl}\nallow_anonymous false`, bin: broker, timeoutMs: FILES_READY_MS }); // prettier-ignore
        brokers.push(f);
        filesKiB = await settledRss(f.pid, 60_000);
      } catch (err) {
        // Mosquitto 2.0 reads acl_file into a list it searches per `user` line: quadratic
        if (!/not ready after/.test(String(err))) throw err;
      }
      return { devices: n, plugin, files: filesKiB, pluginBase: base.plugin, filesBase: base.files, preloadSeconds }; // prettier-ignore
    } finally {
      await service.stop();
    }
  } finally {
    for (const b of brokers) await b.stop();
    await cleanPrefix(redisUrl, prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The RSS of each kind of broker holding nothing: the plugin without preload, empty files. */
export async function baseRss(
  serviceUrl: string,
  credential: Record<string, string>,
  broker: string,
) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'authd-bench-rss0-'));
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, 'passwd'), '');
  await writeFile(path.join(dir, 'acl'), '');
  const p = await startMosquitto({ config: pluginConfig(serviceUrl, credential), bin: broker });
  const f = await startMosquitto({ config: `password_file ${dir}/passwd\nacl_file ${dir}/acl\nallow_anonymous false`, bin: broker }); // prettier-ignore
  try {
    await p.waitForLog(/mqtt-authd: event stream up/, 10_000);
    return { plugin: await settledRss(p.pid, 10_000), files: await settledRss(f.pid, 10_000) };
  } finally {
    await p.stop();
    await f.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
