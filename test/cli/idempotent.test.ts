// `--idempotency-key` for the CLI's device writes: a re-run with the same key prints the first
// run's output (the same generated password) and changes nothing; another command with the key
// is refused. Through the same records as the API's header.
import { idempotentCli } from '../../src/cli/idempotent';
import { deviceAdd } from '../../src/cli/commands';
import { readConfig } from '../../src/config';
import { createContext, type AppContext } from '../../src/context';
import { createLogger } from '../../src/logger';
import { cleanPrefix, testPrefix } from '../support/processes';
import { TEST_REDIS_URL } from '../support/service';

const prefix = testPrefix('cli-idempotent');
let ctx: AppContext;

beforeAll(async () => {
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, PASSWD_ITERATIONS: '101' };
  ctx = createContext(readConfig(env), { logger: createLogger('silent'), adminTokens: [] });
  await ctx.health.ready(5000);
});
afterAll(async () => {
  await ctx.close();
  await cleanPrefix(TEST_REDIS_URL, prefix);
});

const KEY = 'cli-run-7f3e9a2b-0c4d-4e5f';

it('device add twice with one key: one device, the same output both times', async () => {
  const add = () =>
    idempotentCli(
      ctx,
      KEY,
      ['device add', '{}'],
      () => deviceAdd(ctx, {}),
      (d) => d,
    );
  const first = (await add()) as { id: string; password: string };
  const second = (await add()) as { id: string; password: string };
  expect(second).toEqual(first);
  expect(await ctx.store.countUsers()).toBe(1);
  const other = idempotentCli(
    ctx,
    KEY,
    ['device remove', first.id],
    () => ctx.devices.remove(first.id),
    () => ({}),
  );
  await expect(other).rejects.toMatchObject({ code: 'idempotency_key_reused' });
  expect(await ctx.store.getUser(first.id)).not.toBeNull();
});

it('without a key it just runs', async () => {
  const out = (await idempotentCli(
    ctx,
    undefined,
    [],
    () => deviceAdd(ctx, {}),
    (d) => d,
  )) as {
    password: string;
  };
  expect(out.password).toEqual(expect.any(String));
});
