// buildService (not only the CLI's `serve`) refuses to start on a store that still holds the
// layout before index buckets, naming the command that moves it; after the move it starts.
import { readConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildService } from '../../src/main';
import { createKeys } from '../../src/store/keys';
import { testPrefix } from '../support/processes';
import { cleanTestPrefix, testRedisClient, testRedisEnv } from '../support/topology';

const prefix = testPrefix('old-layout');
const redis = testRedisClient();
afterAll(async () => {
  await cleanTestPrefix(prefix);
  redis.disconnect();
});

const config = () =>
  readConfig({ ...testRedisEnv(), PORT: '0', REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'silent' });

it('start() rejects while the old layout is there, and starts once it is moved', async () => {
  await redis.set(createKeys(prefix).legacy.revision, '7');
  const refused = await buildService(config(), { logger: createLogger('silent'), adminTokens: [] });
  await expect(refused.start()).rejects.toThrow(/run `mqtt-authd migrate-store`/);
  expect(refused.server.listening).toBe(false);

  const service = await buildService(config(), { logger: createLogger('silent'), adminTokens: [] });
  try {
    await service.ctx.health.ready(5000);
    expect((await service.ctx.health.migrate()).commonAcl).toBe('none');
    await service.start();
    expect(service.server.listening).toBe(true);
  } finally {
    await service.stop();
  }
});
