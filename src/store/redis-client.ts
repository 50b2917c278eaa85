// The one place a Redis client is made: timeouts, retry strategy, and always an `error`
// listener (an ioredis client without one crashes the process on the first refused connect).
import Redis, { type RedisOptions } from 'ioredis';
import type { Logger } from '../logger';
import { redactUrl } from '../redact';

export interface RedisClientOptions {
  url: string;
  name: string;
  commandTimeoutMs?: number;
  logger: Logger;
}

export function createRedisClient(opts: RedisClientOptions): Redis {
  const options: RedisOptions = {
    connectionName: `mqtt-authd:${opts.name}`,
    // Fail fast while disconnected: a broker check must answer 5xx now, not queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: opts.commandTimeoutMs,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: false,
  };
  const client = new Redis(opts.url, options);
  const where = redactUrl(opts.url);
  let down = false;
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (down) return; // one line per outage, not one per retry
    down = true;
    opts.logger.error(
      { client: opts.name, code: err.code },
      `Redis at ${where} is unreachable (${err.code ?? err.message}); retrying every 2 s. ` +
        'Start one (e.g. `redis-server --port 6379`) or set REDIS_URL.',
    );
  });
  client.on('ready', () => {
    if (down) opts.logger.info({ client: opts.name }, `Redis at ${where} is reachable again`);
    down = false;
  });
  return client;
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
export function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
