// SIGTERM: stop accepting, finish in-flight requests, flush the pending export, exit 0.
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPrefix, startService, testPrefix } from '../support/processes';
import { ADMIN, ADMIN_AUTH, TEST_REDIS_URL } from '../support/service';
import { eventually, JSON_HEADERS, rawRequest } from '../support/http';

it('finishes an in-flight check and flushes a pending export before exiting 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'authd-shutdown-'));
  const prefix = testPrefix('shutdown');
  const s = await startService({
    env: {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKENS: `${ADMIN.name}:${ADMIN.token}`,
      PASSWD_FILE: join(dir, 'passwd'),
      PASSWD_ITERATIONS: '101',
      EXPORT_DEBOUNCE_MS: '60000', // the change stays pending until shutdown flushes it
      EXPORT_MAX_DELAY_MS: '60000',
      // This is about draining, not the Redis budget of a check (test/checks/check-timeout):
      // on a loaded machine the default 250 ms could turn the in-flight check into a 503.
      CHECK_TIMEOUT_MS: '5000',
    },
  });
  try {
    // the startup export has written the (empty) files; what comes next stays pending
    await eventually(async () =>
      expect(await readFile(join(dir, 'passwd'), 'utf8')).toMatch(/^# /),
    );
    const created = await rawRequest(
      s.port,
      'POST',
      '/api/v1/devices',
      '{"id":"late","password":"late-password"}',
      {
        ...JSON_HEADERS,
        ...ADMIN_AUTH,
      },
    );
    expect(created.status).toBe(201);
    await new Promise((r) => setTimeout(r, 300));
    expect(await readFile(join(dir, 'passwd'), 'utf8')).not.toMatch(/^late:/m);

    // a check whose body is still arriving when SIGTERM lands
    const body = '{"username":"late","password":"late-password","clientid":"c"}';
    const answer = new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: s.port,
          method: 'POST',
          path: '/mqtt/user',
          headers: { ...JSON_HEADERS, 'Content-Length': body.length },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 50));
    const exit = s.kill('SIGTERM');
    expect(await answer).toBe(200);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(await readFile(join(dir, 'passwd'), 'utf8')).toMatch(/^late:\$7\$/m);
  } finally {
    await s.stop();
    await cleanPrefix(TEST_REDIS_URL, prefix);
    await rm(dir, { recursive: true, force: true });
  }
});
