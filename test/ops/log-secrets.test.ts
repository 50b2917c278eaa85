// Nothing secret in a log line: passwords, hashes, admin tokens, credentials in REDIS_URL,
// whatever path they take (an ioredis error carries its command's arguments).
import Redis from 'ioredis';
import request from 'supertest';
import { readConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createRedisClient } from '../../src/store/redis-client';
import { freePort } from '../support/processes';
import {
  ADMIN,
  ADMIN_AUTH,
  captureLog,
  startTestService,
  TEST_REDIS_URL,
} from '../support/service';
import { eventually, JSON_HEADERS, rawRequest } from '../support/http';

jest.setTimeout(30_000);
const HASH_RE = /\$[76]\$[^\s"]{20,}/;

/** Every secret-looking thing in `text`, for a readable failure. */
function leaks(text: string, secrets: string[]): string[] {
  const found = secrets.filter((s) => text.includes(s));
  const hash = HASH_RE.exec(text);
  if (hash) found.push(hash[0]);
  return found;
}

it('a real ioredis error carrying a hash in its arguments is logged without it', async () => {
  const log = captureLog();
  const logger = createLogger('info', log.stream);
  const redis = new Redis(TEST_REDIS_URL);
  const key = `mqtt-authd-test:log-secrets:${process.pid}`;
  const hash =
    '$7$101$njERlZMi/7DzNB9E$/yzqCUhWGkAZ2+h0JzojJAjLCVTZ8quVVHhnC1Fbf3a7pClfzV0jRcbBYlOqTFCwR+52lEHnCgkqm8JkLG47bg==';
  try {
    await redis.set(key, 'x');
    const err = await redis.hset(key, 'hash', hash).catch((e: unknown) => e);
    expect((err as { command?: { args?: string[] } }).command?.args).toContain(hash);
    logger.error({ err }, 'write failed');
    logger.error({ nested: { err, password: 'pw-123456', token: ADMIN.token } }, 'nested');
    logger.warn(`tried ${hash} against redis://admin:sup3r-secret@db:6379`);
    logger.info({ url: 'rediss://u:sup3r-secret@db:6380/0' }, 'configured');
  } finally {
    await redis.del(key);
    redis.disconnect();
  }
  const text = log.text();
  expect(text).toContain('WRONGTYPE'); // the error itself is there
  expect(leaks(text, ['sup3r-secret', 'pw-123456', ADMIN.token])).toEqual([]);
});

it('a malformed REDIS_URL is never printed with its credentials', () => {
  for (const url of ['http://user:sup3r-secret@host', 'redis//user:sup3r-secret@host:x']) {
    let message = '';
    try {
      readConfig({ REDIS_URL: url });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/REDIS_URL/);
    expect(message).not.toContain('sup3r-secret');
  }
});

it('a service run (unreachable Redis with credentials, logins, rotations, errors) logs no secret', async () => {
  const log = captureLog();
  // A Redis URL with credentials that nothing answers: the "unreachable" line names it.
  const port = await freePort();
  const dead = createRedisClient({
    settings: readConfig({
      REDIS_URL: `redis://someone:sup3r-secret@127.0.0.1:${port}`,
      REDIS_PASSWORD: 'sup3r-secret',
    }),
    name: 'dead',
    logger: createLogger('info', log.stream),
  });
  await eventually(async () => expect(log.text()).toMatch(/unreachable/));
  dead.disconnect();

  const t = await startTestService('log-secrets', { LOG_LEVEL: 'debug' }, { log: log.stream });
  try {
    const api = request(t.service.server);
    const made = await api.post('/api/v1/devices').set(ADMIN_AUTH).send({ id: 'leak-1' });
    const password = made.body.password as string;
    const rotated = await api.post('/api/v1/devices/leak-1/password').set(ADMIN_AUTH).send({});
    const login = (pw: string) =>
      rawRequest(
        t.port,
        'POST',
        '/mqtt/user',
        JSON.stringify({ username: 'leak-1', password: pw }),
        JSON_HEADERS,
      );
    await login(password); // the old one: refused
    await login(rotated.body.password as string);
    await login('a-guessed-password');
    await api.get('/api/v1/devices').set({ Authorization: 'Bearer wrong-token-0123456789' });
    // A damaged hash and a write that Redis refuses.
    const { redis, keys } = t.raw();
    const stored = (await redis.hget(keys.user('leak-1'), 'hash')) as string;
    await redis.hset(keys.user('leak-1'), 'acl', '{');
    await api.get('/api/v1/devices/leak-1').set(ADMIN_AUTH).expect(200);
    const text = log.text();
    expect(text).toMatch(/unreachable/);
    expect(text).toMatch(/does not decode/);
    expect(
      leaks(text, [
        'sup3r-secret',
        password,
        rotated.body.password as string,
        'a-guessed-password',
        ADMIN.token,
        'wrong-token-0123456789',
        stored.slice(-20),
      ]),
    ).toEqual([]);
  } finally {
    await t.stop();
  }
});
