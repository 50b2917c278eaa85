// createContext(config, overrides): any part can be replaced, and what is built from it uses
// the replacement (atproto's AppContext.fromConfig(cfg, overrides)).
import { readConfig } from '../src/config';
import { createContext } from '../src/context';
import { createLogger } from '../src/logger';
import type { LockoutStore } from '../src/store/lockout-store';
import { testPrefix } from './support/processes';
import { testRedisEnv } from './support/topology';

it('a replaced lockout store is what the throttle and the lockout list read', async () => {
  const fake: LockoutStore = {
    counter: async () => ({ consumed: 5, msBeforeNext: 30_000 }),
    consume: async () => 5,
    block: async () => undefined,
    reset: async () => true,
    index: async () => undefined,
    unindex: async () => false,
    page: async () => [{ member: 'u:abc\tsomeone', score: Date.now() + 30_000 }],
    ties: async () => 0,
    endsOf: async (m) => m.map(() => null),
  };
  const config = readConfig({
    ...testRedisEnv(),
    REDIS_KEY_PREFIX: testPrefix('context'),
    AUTH_FAIL_LIMIT: '5',
  });
  const ctx = createContext(config, {
    lockoutStore: fake,
    logger: createLogger('silent'),
    adminTokens: [],
    changeFeed: false,
  });
  try {
    expect(ctx.lockoutStore).toBe(fake);
    expect(await ctx.throttle.state('username', 'someone')).toEqual({
      locked: true,
      failures: 5,
      retryAfterS: 30,
    });
    const page = await ctx.lockouts.list(10);
    expect(page.lockouts.map((l) => [l.kind, l.name, l.locked])).toEqual([
      ['username', 'someone', true],
    ]);
  } finally {
    await ctx.close();
  }
});
