// mqtt-authd as the broker sees it: `node dist/src/cli.js serve`, a child process against
// the real Redis, on a free port, under its own key prefix.
import path from 'node:path';
import type Redis from 'ioredis';
import type { Keys } from '../src/store/keys';
import { freePort, sleep, spawnNode, waitForHttp, type Child } from './processes';

export interface Authd {
  child: Child;
  url: string;
  /** Empties its user cache, as any change to the common rules does (one PUBLISH). */
  clearCache(): Promise<void>;
}

const CLI = path.join(__dirname, '..', 'src', 'cli.js');

export async function startAuthd(
  redis: Redis,
  redisUrl: string,
  keys: Keys,
  cpuProfDir: string,
): Promise<Authd> {
  const port = await freePort();
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawnNode('mqtt-authd', [...prof, CLI, 'serve'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keys.prefix,
    LOG_LEVEL: 'warn',
    // The deny mix and repeated runs must not lock names out: this measures checks, not lockouts.
    AUTH_FAIL_LIMIT: '1000000',
    PASSWD_FILE: '',
    ACL_FILE: '',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${url}/readyz`);
  return {
    child,
    url,
    async clearCache() {
      // Any message but `u:<name>` means "everything may have changed" to the change feed.
      if ((await redis.publish(keys.events, 'bench-resync')) < 1) {
        throw new Error('mqtt-authd is not subscribed to its change feed');
      }
      await sleep(100);
    },
  };
}
