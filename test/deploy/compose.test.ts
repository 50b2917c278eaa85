// The deployment files: the compose files are valid and consistent with the service's
// configuration, go-auth.conf asks the endpoints the service serves, and fallback.conf with
// fallback-start.sh runs in a real mosquitto the way the fallback container runs it.
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { readAdminTokens, readConfig } from '../../src/config';
import { parse as parseYaml } from 'yaml';
import {
  commandSync,
  freePort,
  mosquittoPasswd,
  runCommand,
  startMosquitto,
  startRedis,
} from '../support/processes';

const ROOT = path.resolve(__dirname, '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const DUMMY_TOKENS = 'ci:0123456789abcdef0123456789';

/** `key value` lines of a mosquitto config (mosquitto reads a value up to the end of line). */
function confOptions(text: string): Map<string, string[]> {
  const opts = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\s+(.*)$/.exec(line.trim());
    if (!m || line.trim().startsWith('#')) continue;
    const [, key, value] = m as unknown as [string, string, string];
    opts.set(key, [...(opts.get(key) ?? []), value.trim()]);
  }
  return opts;
}
const one = (opts: Map<string, string[]>, key: string) => opts.get(key)?.[0];

describe.each(['mosquitto/go-auth.conf', 'mosquitto/existing-broker.conf'])(
  '%s asks the service the way it answers',
  (file) => {
    const opts = confOptions(read(file));

    test('has every required auth_opt_ option', () => {
      for (const name of [
        'backends',
        'http_host',
        'http_port',
        'http_getuser_uri',
        'http_aclcheck_uri',
        'http_superuser_uri',
        'http_params_mode',
        'http_response_mode',
      ]) {
        expect(opts.has(`auth_opt_${name}`)).toBe(true);
      }
      expect(one(opts, 'auth_opt_backends')).toBe('http');
      expect(one(opts, 'auth_opt_http_params_mode')).toBe('json');
      expect(one(opts, 'auth_opt_http_response_mode')).toBe('status');
      expect(one(opts, 'allow_anonymous')).toBe('false');
    });

    test('uses the service URIs', () => {
      expect(one(opts, 'auth_opt_http_getuser_uri')).toBe('/mqtt/user');
      expect(one(opts, 'auth_opt_http_superuser_uri')).toBe('/mqtt/superuser');
      expect(one(opts, 'auth_opt_http_aclcheck_uri')).toBe('/mqtt/acl');
      expect(one(opts, 'auth_opt_http_port')).toBe('8080');
    });

    test('keeps revocations bounded: in-memory cache of at most 60 s, no refresh on hit', () => {
      expect(one(opts, 'auth_opt_cache')).toBe('true');
      expect(one(opts, 'auth_opt_cache_type')).toBe('go-cache');
      expect(one(opts, 'auth_opt_cache_refresh')).toBe('false');
      for (const k of ['auth_cache_seconds', 'acl_cache_seconds']) {
        const s = Number(one(opts, `auth_opt_${k}`));
        expect(s).toBeGreaterThan(0);
        expect(s).toBeLessThanOrEqual(60);
      }
      expect(one(opts, 'auth_opt_log_level')).not.toBe('debug'); // logs plaintext passwords
    });
  },
);

test('go-auth.conf loads the plugin where the image has it and listens on 1883 and 9001', () => {
  const opts = confOptions(read('mosquitto/go-auth.conf'));
  expect(one(opts, 'auth_plugin')).toBe('/mosquitto/go-auth.so');
  expect(one(opts, 'auth_opt_http_host')).toBe('mqtt-authd');
  expect(opts.get('listener')).toEqual(['1883', '9001']);
  expect(opts.get('protocol')).toEqual(['mqtt', 'websockets']);
});

test.each(['mosquitto/go-auth.conf', 'mosquitto/fallback.conf', 'mosquitto/existing-broker.conf'])(
  '%s has no comment after a value (mosquitto would read it as part of the value)',
  (file) => {
    const bad = read(file)
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('#') && l.includes('#'));
    expect(bad).toEqual([]);
  },
);

// ---------------------------------------------------------------------------------------------
// docker-compose

const hasCompose = commandSync('docker-compose', ['version']).code !== null;
if (!hasCompose) {
  console.log(
    'docker-compose not installed: skipping the compose file checks (.ci/run installs it)',
  );
}
const describeCompose = hasCompose ? describe : describe.skip;

function compose(args: string[], env: Record<string, string | undefined>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return runCommand('docker-compose', args, { cwd: ROOT, env: childEnv });
}

interface ComposeService {
  environment?: Record<string, string>;
  volumes?: string[];
  pid?: string;
  user?: string;
  init?: boolean;
}

/** `docker-compose config` output, parsed (not matched by substring). */
async function composeConfig(args: string[]) {
  const r = await compose([...args, 'config'], { ADMIN_TOKENS: DUMMY_TOKENS });
  expect(r).toMatchObject({ code: 0 });
  return parseYaml(r.stdout) as { services: Record<string, ComposeService> };
}

describeCompose('docker-compose files', () => {
  const BASE = ['-f', 'docker-compose.yml'];
  const FALLBACK = [...BASE, '-f', 'docker-compose.fallback.yml', '--profile', 'fallback'];

  test('docker-compose.yml is valid', async () => {
    const r = await compose([...BASE, 'config', '-q'], { ADMIN_TOKENS: DUMMY_TOKENS });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('with the fallback override and profile it is valid too', async () => {
    const r = await compose([...FALLBACK, 'config', '-q'], { ADMIN_TOKENS: DUMMY_TOKENS });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('holds no admin secret: without ADMIN_TOKENS it refuses to start', async () => {
    const r = await compose([...BASE, 'config', '-q'], { ADMIN_TOKENS: undefined });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ADMIN_TOKENS/);
  });

  test('gives mqtt-authd an environment the service accepts, matching go-auth.conf', async () => {
    const { services } = await composeConfig(BASE);
    const env = services['mqtt-authd']?.environment ?? {};
    const configSource = read('src/config.ts');
    for (const key of Object.keys(env))
      expect([key, configSource.includes(key)]).toEqual([key, true]);
    const config = readConfig(env);
    expect(readAdminTokens(env)).toEqual([{ name: 'ci', token: DUMMY_TOKENS.slice(3) }]);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.REDIS_URL).toBe('redis://redis:6379');

    const goAuth = confOptions(read('mosquitto/go-auth.conf'));
    expect(String(config.PORT)).toBe(one(goAuth, 'auth_opt_http_port'));
    expect(config.CHECK_RESPONSE_MODE).toBe(one(goAuth, 'auth_opt_http_response_mode'));
    expect(Object.keys(services)).toContain(one(goAuth, 'auth_opt_http_host')); // a service name
    expect(services.mosquitto?.volumes).toContain(
      `${ROOT}/mosquitto/go-auth.conf:/etc/mosquitto/mosquitto.conf:ro`,
    );
  });

  test('the fallback setup exports where fallback.conf reads and reloads what it runs', async () => {
    const { services } = await composeConfig(FALLBACK);
    const authd = services['mqtt-authd'] as ComposeService;
    const env = authd.environment ?? {};
    const config = readConfig(env);
    const fallback = confOptions(read('mosquitto/fallback.conf'));
    expect(config.PASSWD_FILE).toBe(one(fallback, 'password_file'));
    expect(config.ACL_FILE).toBe(one(fallback, 'acl_file'));
    expect(config.MOSQUITTO_RELOAD).toBe(`pidfile:${one(fallback, 'pid_file')}`);
    expect(config.EXPORT_OWNER).toBe('1883:1883'); // the eclipse-mosquitto image's user
    expect(config.EXPORT_FILE_MODE).toBe(0o640);

    const broker = services['mosquitto-fallback'] as ComposeService;
    expect(broker.environment?.EXPORT_OWNER).toBe(config.EXPORT_OWNER);
    expect(broker.environment?.EXPORT_FILE_MODE).toBe(env.EXPORT_FILE_MODE);
    expect(broker.environment?.EXPORT_DIR).toBe(path.dirname(config.PASSWD_FILE));

    // Signalling the broker needs its PID namespace and its uid; see docker-compose.fallback.yml.
    expect(authd).toMatchObject({ pid: 'service:mosquitto-fallback', user: '1883:1883' });
    expect(broker.init).toBe(true);
    for (const s of [authd, broker]) expect(s.volumes).toContain('export:/export:rw');
  });
});

// ---------------------------------------------------------------------------------------------
// fallback.conf and fallback-start.sh in a real mosquitto

function mosquittoIds(): { uid: number; gid: number } | null {
  const r = commandSync('id', ['-u', 'mosquitto']);
  const g = commandSync('id', ['-g', 'mosquitto']);
  if (r.code !== 0 || g.code !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

const ids = mosquittoIds();
const asRoot = process.getuid?.() === 0;
if (!asRoot || !ids) {
  console.log('fallback broker test needs root and a `mosquitto` user (CI has both): skipped');
}
const describeFallback = asRoot && ids ? describe : describe.skip;

/** true: CONNACK accepted; false: refused (bad credentials, not authorized); else throws. */
async function login(port: number, username: string, password: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    await c.endAsync();
    return true;
  } catch (err) {
    // MQTT 3.1.1 CONNACK 4 (bad user name or password) and 5 (not authorized) are the refusals;
    // a broker that is down or a timeout is not an answer to assert on.
    if (
      /^Connection refused: (Bad username or password|Not authorized)/.test((err as Error).message)
    )
      return false;
    throw err;
  }
}

describeFallback('mosquitto/fallback.conf with fallback-start.sh, as in the container', () => {
  let base: string;
  let exportDir: string;
  const owner = () => `${ids?.uid}:${ids?.gid}`;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-fallback-'));
    await chmod(base, 0o755); // the broker runs as `mosquitto` and must reach exportDir
    exportDir = path.join(base, 'export');
    await mkdir(exportDir);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const startScript = async () => {
    const r = await runCommand('/bin/sh', [path.join(ROOT, 'mosquitto/fallback-start.sh')], {
      env: {
        PATH: process.env.PATH,
        EXPORT_DIR: exportDir,
        EXPORT_OWNER: owner(),
        EXPORT_FILE_MODE: '0640',
        MOSQUITTO: '/bin/true', // the broker is started below, under test control
      },
    });
    expect(r).toMatchObject({ code: 0 });
  };

  test('the start script prepares the export volume and keeps an existing export', async () => {
    await writeFile(path.join(exportDir, 'mosquitto.pid'), '12345\n'); // left by a killed broker
    await startScript();
    for (const f of ['passwd', 'acl']) {
      const st = await stat(path.join(exportDir, f));
      expect(st.size).toBe(0);
      expect(st.mode & 0o777).toBe(0o640);
      expect([st.uid, st.gid]).toEqual([ids?.uid, ids?.gid]);
    }
    const dirSt = await stat(exportDir);
    expect([dirSt.uid, dirSt.mode & 0o777]).toEqual([ids?.uid, 0o750]);
    expect(existsSync(path.join(exportDir, 'mosquitto.pid'))).toBe(false);

    await writeFile(path.join(exportDir, 'acl'), 'user kept\n');
    await startScript();
    expect(await readFile(path.join(exportDir, 'acl'), 'utf8')).toBe('user kept\n');
    await writeFile(path.join(exportDir, 'acl'), '');
  });

  test('the broker starts on the empty files, then takes an export on SIGHUP to pid_file', async () => {
    const [tcpPort, wsPort] = [await freePort(), await freePort()];
    const websockets = /libwebsockets/.test(commandSync('ldd', ['/usr/sbin/mosquitto']).stdout);
    if (!websockets)
      console.log("this mosquitto has no websockets: port 9001's listener runs as mqtt");
    const original = read('mosquitto/fallback.conf');
    const rewrites: [RegExp, string][] = [
      [/^listener 1883$/m, `listener ${tcpPort} 127.0.0.1`],
      [/^listener 9001$/m, `listener ${wsPort} 127.0.0.1`],
      [/^protocol websockets$/m, websockets ? 'protocol websockets' : 'protocol mqtt'],
      [/^persistence_location .*$/m, `persistence_location ${exportDir}/`],
      [/\/export\//g, `${exportDir}/`],
    ];
    let conf = original;
    for (const [re, to] of rewrites) {
      expect([re.source, re.test(conf)]).toEqual([re.source, true]);
      conf = conf.replace(re, to);
    }
    expect(conf).not.toMatch(/ \/export\/|listener (1883|9001)$/m);

    // As in the image: started as root, mosquitto drops to its user before reading the files.
    const broker = await startMosquitto({ dir: base, dropPrivileges: true, config: conf });
    try {
      const pidFile = path.join(exportDir, 'mosquitto.pid');
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      expect(pid).toBe(broker.pid);
      expect((await stat(pidFile)).uid).toBe(ids?.uid); // written after dropping privileges
      expect(await login(tcpPort, 'dev1', 'dev1-pw')).toBe(false);

      // What the exporter does: a complete new file, owner and mode set, renamed over.
      const scratch = path.join(base, 'scratch-passwd');
      await mosquittoPasswd(scratch, 'dev1', 'dev1-pw');
      for (const [name, from] of [
        ['passwd', scratch],
        ['acl', null],
      ] as const) {
        const tmp = path.join(exportDir, `.${name}.tmp`);
        const text = from
          ? await readFile(from, 'utf8')
          : 'user dev1\ntopic readwrite devices/dev1/#\n';
        await writeFile(tmp, `# Generated by mqtt-authd from Redis. Do not edit.\n${text}`);
        await chown(tmp, ids?.uid as number, ids?.gid as number);
        await chmod(tmp, 0o640);
        await rename(tmp, path.join(exportDir, name));
      }
      const from = broker.logs().length;
      process.kill(pid, 'SIGHUP'); // MOSQUITTO_RELOAD=pidfile:/export/mosquitto.pid
      await broker.waitForLog(/Reloading config\./, 5000, from);

      expect(await login(tcpPort, 'dev1', 'dev1-pw')).toBe(true);
      expect(await login(tcpPort, 'dev1', 'wrong')).toBe(false);
      if (!websockets) expect(await login(wsPort, 'dev1', 'dev1-pw')).toBe(true);

      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${tcpPort}`, {
        username: 'dev1',
        password: 'dev1-pw',
        reconnectPeriod: 0,
      });
      try {
        const got: string[] = [];
        c.on('message', (t) => got.push(t));
        await c.subscribeAsync('#');
        const own = new Promise<void>((resolve) =>
          c.on('message', (t) => t === 'devices/dev1/x' && resolve()),
        );
        await c.publishAsync('devices/other/x', 'p', { qos: 1 });
        await c.publishAsync('devices/dev1/x', 'p', { qos: 1 });
        await own;
        expect(got).toEqual(['devices/dev1/x']); // the acl_file is in force
      } finally {
        await c.endAsync();
      }
    } finally {
      await broker.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.ha.yml and deploy/sentinel.conf

describeCompose('docker-compose.ha.yml', () => {
  const HA = ['-f', 'docker-compose.ha.yml'];

  test('is valid, and holds no admin secret', async () => {
    const r = await compose([...HA, 'config', '-q'], { ADMIN_TOKENS: DUMMY_TOKENS });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const bare = await compose([...HA, 'config', '-q'], { ADMIN_TOKENS: undefined });
    expect(bare.code).not.toBe(0);
  });

  test('two mqtt-authd replicas on Sentinel, two brokers, a primary, a replica, 3 sentinels', async () => {
    const { services } = await composeConfig(HA);
    const ha = services as Record<string, ComposeService & { networks?: unknown }>;
    for (const svc of ['redis-primary', 'redis-replica', 'mosquitto-a', 'mosquitto-b'])
      expect(Object.keys(ha)).toContain(svc);
    const sentinelConf = read('deploy/sentinel.conf');
    const monitor = /^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m.exec(sentinelConf);
    expect(monitor).not.toBeNull();
    expect(Object.keys(ha)).toContain(monitor?.[2]); // the monitored primary is a service
    const goAuth = confOptions(read('mosquitto/go-auth.conf'));
    for (const svc of ['mqtt-authd-a', 'mqtt-authd-b']) {
      const config = readConfig(ha[svc]?.environment ?? {});
      expect(config.REDIS_TOPOLOGY).toBe('sentinel');
      expect(config.REDIS_MIN_REPLICAS_ACK).toBe(1);
      expect(config.REDIS_SENTINEL_NAME).toBe(monitor?.[1]);
      for (const s of (config.REDIS_SENTINELS ?? '').split(',')) {
        expect(Object.keys(ha)).toContain(s.split(':')[0]); // a sentinel service
        expect(s.endsWith(':26379')).toBe(true);
      }
      // go-auth.conf asks one host name: both replicas answer to it.
      expect(JSON.stringify(ha[svc]?.networks)).toContain(`"${one(goAuth, 'auth_opt_http_host')}"`);
    }
  });

  test('a real redis-server --sentinel loads deploy/sentinel.conf and monitors the primary', async () => {
    const primary = await startRedis();
    // The file as is, but for the address of the primary: the compose host name becomes
    // loopback (startRedis gives --port after the file, which overrides its `port`).
    const conf = read('deploy/sentinel.conf').replace(
      /^(sentinel monitor \S+) redis-primary 6379/m,
      `$1 127.0.0.1 ${primary.port}`,
    );
    const sentinel = await startRedis({ conf, sentinel: true });
    try {
      const flat = (await sentinel.cli('SENTINEL', 'MASTER', 'authd')).stdout.trim().split('\n');
      const master = Object.fromEntries(
        flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])),
      );
      expect(master).toMatchObject({
        ip: '127.0.0.1',
        port: String(primary.port),
        quorum: '2',
        'down-after-milliseconds': '5000',
        'failover-timeout': '30000',
      });
      expect(master.flags).toBe('master');
    } finally {
      await sentinel.stop();
      await primary.stop();
    }
  });
});
