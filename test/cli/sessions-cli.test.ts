// `mqtt-authd sessions` and `mqtt-authd device disconnect` (issue 27), the real binary on the
// real Redis: a page in the API's shape, and a disconnect request heard on the events channel.
import { join } from 'node:path';
import { readConfig } from '../../src/config';
import { createContext, type AppContext } from '../../src/context';
import { createLogger } from '../../src/logger';
import { requireBuilt } from '../support/built';
import { runCommand, testPrefix } from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

const BIN = join(__dirname, '../../dist/src/cli.js');
let ctx: AppContext;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  requireBuilt(BIN);
  const vars = {
    ...testRedisEnv(),
    REDIS_KEY_PREFIX: testPrefix('sessions-cli'),
    LOG_LEVEL: 'silent',
  };
  env = { ...process.env, ...vars };
  ctx = createContext(readConfig(vars), { logger: createLogger('silent'), adminTokens: [] });
  await ctx.health.ready(5000);
  await ctx.devices.as('test').create({ id: 'cli-dev' });
  const at = Date.UTC(2026, 1, 1);
  const connected = ['c1', 'c2'].map((clientid) => ({
    username: 'cli-dev',
    clientid,
    address: 'a',
    protocol: 5,
    at,
  }));
  await ctx.presence.report(
    {
      broker: 'cli-b',
      boot: 'x',
      seq: 1,
      full: true,
      heartbeatMs: 60_000,
      connected,
      disconnected: [],
    },
    Date.now(),
  );
});
afterAll(async () => {
  await ctx?.close();
  await cleanTestPrefix(ctx.config.REDIS_KEY_PREFIX);
});

it('sessions prints a page as JSON, paged with --cursor', async () => {
  const first = await runCommand(
    process.execPath,
    [BIN, 'sessions', '--username', 'cli-dev', '--limit', '1'],
    { env },
  );
  expect(first.code).toBe(0);
  const page = JSON.parse(first.stdout) as {
    sessions: { clientid: string; connectedAt: string }[];
    next: string;
  };
  expect(page.sessions.map((s) => [s.clientid, s.connectedAt])).toEqual([
    ['c1', '2026-02-01T00:00:00.000Z'],
  ]);
  const second = await runCommand(
    process.execPath,
    [BIN, 'sessions', '--username', 'cli-dev', '--cursor', page.next],
    { env },
  );
  expect(JSON.parse(second.stdout)).toMatchObject({ sessions: [{ clientid: 'c2' }], next: null });
});

it('device disconnect asks the brokers (a message every service process hears) and says how many', async () => {
  const heard = new Promise<string>((resolve) => ctx.feed.once('disconnect', resolve));
  await new Promise<void>((r) => (ctx.feed.isUp ? r() : ctx.feed.once('up', () => r())));
  const res = await runCommand(process.execPath, [BIN, 'device', 'disconnect', 'cli-dev'], { env });
  expect([res.code, JSON.parse(res.stdout)]).toEqual([0, { username: 'cli-dev', sessions: 2 }]);
  expect(await heard).toBe('cli-dev');
  const missing = await runCommand(process.execPath, [BIN, 'device', 'disconnect', 'nobody'], {
    env,
  });
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('not found');
});
