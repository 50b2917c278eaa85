import { ConfigError, parseHostList, readAdminTokens, readConfig } from '../src/config';

describe('readConfig', () => {
  it('has the documented defaults', () => {
    const c = readConfig({});
    expect(c).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: 'mqtt-authd:',
      CHECK_RESPONSE_MODE: 'status',
      CHECK_TIMEOUT_MS: 250,
      PASSWD_ITERATIONS: 1000,
      PASSWD_SALT_BYTES: 12,
      EXPORT_FILE_MODE: 0o600,
      MOSQUITTO_RELOAD: 'none',
    });
    expect(c.COMMON_ACL_DEFAULT).toEqual([{ pattern: 'devices/%u/#', access: 'readwrite' }]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: '70000' }, /PORT="70000"/],
    [{ PORT: 'eighty' }, /PORT/],
    [{ CHECK_RESPONSE_MODE: 'xml' }, /CHECK_RESPONSE_MODE="xml"/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL.*redis:\/\//],
    [{ PASSWD_SALT_BYTES: '8' }, /PASSWD_SALT_BYTES/],
    [{ PASSWD_SALT_BYTES: '16' }, /PASSWD_SALT_BYTES.*12 or 64/],
    [{ MOSQUITTO_RELOAD_CHECK_MS: '-1' }, /MOSQUITTO_RELOAD_CHECK_MS/],
    [
      { COMMON_ACL_DEFAULT: JSON.stringify([{ pattern: `${'a/'.repeat(201)}a`, access: 'read' }]) },
      /COMMON_ACL_DEFAULT.*202 levels/,
    ],
    [{ EXPORT_FILE_MODE: '777x' }, /EXPORT_FILE_MODE.*octal/],
    [{ EXPORT_OWNER: 'mosquitto' }, /EXPORT_OWNER.*UID/],
    [{ MOSQUITTO_RELOAD: 'sighup' }, /MOSQUITTO_RELOAD.*pidfile/],
    [{ COMMON_ACL_DEFAULT: '[{"pattern":"a/#/b","access":"read"}]' }, /COMMON_ACL_DEFAULT/],
    [{ COMMON_ACL_DEFAULT: 'nope' }, /COMMON_ACL_DEFAULT.*JSON/],
    [{ REDIS_KEY_PREFIX: 'a b' }, /REDIS_KEY_PREFIX/],
    [{ BROKER_TOKEN_SHA256: 'ab'.repeat(31) }, /BROKER_TOKEN_SHA256 .*64 hex digits/],
    [{ BROKER_TOKEN_SHA256: `${'a'.repeat(64)},` }, /BROKER_TOKEN_SHA256 .*comma separated/],
  ];
  it.each(bad)('stops on %j with a message naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});

test('BROKER_TOKEN_SHA256: digests read lower-case; a token pasted instead is not echoed', () => {
  const d = 'AB'.repeat(32);
  expect(readConfig({ BROKER_TOKEN_SHA256: `${d},${'c'.repeat(64)}` }).BROKER_TOKEN_SHA256).toEqual(
    [d.toLowerCase(), 'c'.repeat(64)],
  );
  expect(readConfig({}).BROKER_TOKEN_SHA256).toBeUndefined();
  expect(() => readConfig({ BROKER_TOKEN_SHA256: 'my-plaintext-broker-token' })).not.toThrow(
    /my-plaintext/,
  );
});

describe('readAdminTokens', () => {
  it('reads named and bare tokens and never accepts short ones', () => {
    expect(
      readAdminTokens({ ADMIN_TOKENS: 'ops:0123456789abcdef0123,fedcba9876543210fedc' }),
    ).toEqual([
      { name: 'ops', token: '0123456789abcdef0123' },
      { name: 'admin-2', token: 'fedcba9876543210fedc' },
    ]);
    expect(() => readAdminTokens({ ADMIN_TOKENS: 'ops:short' })).toThrow(/shorter than 16/);
    expect(() => readAdminTokens({ ADMIN_TOKEN_FILE: '/nonexistent/tokens' })).toThrow(
      /ADMIN_TOKEN_FILE/,
    );
    expect(readAdminTokens({})).toEqual([]);
  });

  it('refuses two tokens of one name, naming ADMIN_TOKENS and the name, not the tokens', () => {
    const A = 'alice-token-A-0123456789';
    const C = 'alice-token-C-0123456789';
    const dup = () => readAdminTokens({ ADMIN_TOKENS: `alice:${A},alice:${C}` });
    expect(dup).toThrow(ConfigError);
    expect(dup).toThrow(/ADMIN_TOKENS.*"alice".*more than one token/);
    expect(dup).not.toThrow(/token-A|token-C/);
  });

  it('never puts a token in an error message', () => {
    expect(() => readAdminTokens({ ADMIN_TOKENS: 'ops:secret123' })).toThrow(/"ops"/);
    expect(() => readAdminTokens({ ADMIN_TOKENS: 'ops:secret123' })).not.toThrow(/secret123/);
  });
});

describe('Redis topology', () => {
  it('is standalone by default, with no replica confirmation', () => {
    const c = readConfig({});
    expect(c.REDIS_TOPOLOGY).toBe('standalone');
    expect(c.REDIS_MIN_REPLICAS_ACK).toBe(0);
  });

  it('reads Sentinel and Cluster settings; empty variables count as unset', () => {
    const s = readConfig({
      REDIS_URL: '',
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'authd',
      REDIS_CLUSTER_NODES: '',
    });
    expect(s).toMatchObject({ REDIS_TOPOLOGY: 'sentinel', REDIS_MIN_REPLICAS_ACK: 1 });
    const c = readConfig({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', REDIS_MIN_REPLICAS_ACK: '0' });
    expect(c).toMatchObject({ REDIS_TOPOLOGY: 'cluster', REDIS_MIN_REPLICAS_ACK: 0 });
    expect(parseHostList('n1:7000,[::1]:7001'.replace('[::1]', 'h'))).toEqual([
      { host: 'n1', port: 7000 },
      { host: 'h', port: 7001 },
    ]);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's:26379' }, /REDIS_URL and REDIS_SENTINELS/],
    [
      { REDIS_SENTINELS: 's:26379', REDIS_CLUSTER_NODES: 'n:7000', REDIS_SENTINEL_NAME: 'm' },
      /REDIS_SENTINELS and REDIS_CLUSTER_NODES/,
    ],
    [{ REDIS_SENTINELS: 's:26379' }, /REDIS_SENTINEL_NAME: required/],
    [{ REDIS_SENTINELS: 's' }, /REDIS_SENTINELS.*host:port/],
    [{ REDIS_CLUSTER_NODES: 'n:7000', REDIS_DB: '2' }, /REDIS_DB.*only database 0/],
    [{ CACHE_SERVE_STALE_MS: '-1' }, /CACHE_SERVE_STALE_MS/],
  ];
  it.each(bad)('refuses %j', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
