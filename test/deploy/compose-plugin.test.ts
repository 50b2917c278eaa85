// The plugin deployment: docker-compose.plugin.yml over docker-compose.yml is valid and swaps
// the go-auth broker for the image built from mosquitto/plugin/Dockerfile with
// mosquitto/plugin.conf; the conf puts the plugin where the Dockerfile does and asks the
// service where compose runs it; a real mosquitto loads the conf with our built plugin.
// (Kept apart from compose.test.ts so parallel work on either file does not collide.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { commandSync, runCommand, startMosquitto, ROOT } from '../support/processes';
import { buildPlugin, PLUGIN_SO } from '../support/plugin';

const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const DUMMY_TOKENS = 'ci:0123456789abcdef0123456789';
const FILES = ['-f', 'docker-compose.yml', '-f', 'docker-compose.plugin.yml'];

/** `key value` lines (mosquitto reads a value up to the end of its line). */
const confValues = (text: string, key: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${key} `))
    .map((l) => l.slice(key.length + 1).trim());

const hasCompose = commandSync('docker-compose', ['version']).code !== null;
const describeCompose = hasCompose ? describe : describe.skip; // setup.sh --test installs it

describeCompose('docker-compose.plugin.yml', () => {
  const compose = (args: string[]) =>
    runCommand('docker-compose', [...FILES, ...args], {
      cwd: ROOT,
      env: { ...process.env, ADMIN_TOKENS: DUMMY_TOKENS },
    });

  test('is valid over docker-compose.yml', async () => {
    const r = await compose(['config', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('builds the broker from mosquitto/plugin and mounts plugin.conf, not go-auth.conf', async () => {
    const r = await compose(['config']);
    expect(r.code).toBe(0);
    const { services } = parseYaml(r.stdout) as {
      services: Record<string, { build?: { context: string }; volumes?: string[]; image?: string }>;
    };
    const m = services.mosquitto;
    expect(m?.build?.context).toBe(path.join(ROOT, 'mosquitto', 'plugin'));
    const mounts = (m?.volumes ?? []).map(String);
    expect(mounts).toContain(
      `${path.join(ROOT, 'mosquitto', 'plugin.conf')}:/etc/mosquitto/mosquitto.conf:ro`,
    );
    expect(mounts.join('\n')).not.toMatch(/go-auth\.conf/);
  });
});

describe('mosquitto/plugin.conf and mosquitto/plugin/Dockerfile', () => {
  const conf = read('mosquitto/plugin.conf');
  const dockerfile = read('mosquitto/plugin/Dockerfile');

  test('the plugin is loaded from where the Dockerfile puts it', () => {
    const [so] = confValues(conf, 'plugin');
    expect(so).toBeDefined();
    expect(dockerfile).toContain(`COPY --from=build /src/mqtt-authd.so ${so}`);
    expect(dockerfile).toMatch(/CMD \["\/usr\/sbin\/mosquitto", "-c", "\/etc\/mosquitto\/mosquitto.conf"\]/); // prettier-ignore
  });

  test('asks the service by its compose name and port, with no comment after a value', () => {
    expect(confValues(conf, 'plugin_opt_url')).toEqual(['http://mqtt-authd:8080']);
    const compose = read('docker-compose.yml');
    expect(compose).toMatch(/^ {2}mqtt-authd:$/m);
    expect(compose).toMatch(/PORT: '8080'/);
    for (const line of conf.split('\n').filter((l) => /^[a-z_]+ /.test(l)))
      expect([line, line.includes('#')]).toEqual([line, false]);
  });

  test('a real mosquitto 2.0.11 loads the conf with the built plugin', async () => {
    await buildPlugin();
    // the conf as is, but for our listener, the built .so and a local (absent) service
    const lines = conf
      .split('\n')
      .filter((l) => !/^(listener|protocol|persistence|log_dest|log_type)\b/.test(l))
      .map((l) => l.replace(/^plugin \S+$/, `plugin ${PLUGIN_SO}`))
      .map((l) => l.replace(/^plugin_opt_url \S+$/, 'plugin_opt_url http://127.0.0.1:9'));
    const broker = await startMosquitto({ config: lines.join('\n') });
    try {
      await broker.waitForLog(/mqtt-authd: checks at http:\/\/127\.0\.0\.1:9, cache 100000/);
    } finally {
      await broker.stop();
    }
  });
});
