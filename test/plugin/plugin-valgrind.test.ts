// The whole broker under valgrind with the plugin loaded: connect, publish (a miss, then the
// cache), subscribe, a revocation (kick), the stream dropping and coming back, a config reload
// (2.0.11 keeps v5 plugins as they are), shutdown (cleanup joins the stream thread). Any invalid access or definite leak
// makes valgrind exit 99 and the test fail, with valgrind's report in the message. The stream
// and the checks carry the broker credential (plugin_opt_token_file), as in production.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import {
  brokerToken,
  closedAt,
  connectV5,
  mustConnect,
  publishCode,
  startPluginStack,
  stopValgrindClean,
  subscribeCode,
  HAVE_VALGRIND,
  VALGRIND,
  type PluginStack,
} from '../support/plugin';

const maybe = HAVE_VALGRIND ? test : test.skip;

let s: PluginStack | undefined;
let dir: string | undefined;
const clients: MqttClient[] = [];
afterAll(async () => {
  for (const c of clients) c.end(true);
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

maybe(
  'connect, publish, subscribe, revoke, stream drop, reload, shutdown: valgrind-clean',
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'plugin-valgrind-'));
    const credential = await brokerToken(dir);
    s = await startPluginStack({
      name: 'plugin-valgrind',
      wrapper: VALGRIND,
      serviceEnv: credential.serviceEnv,
      pluginOpts: credential.pluginOpts,
    });
    const st = s;
    const acl = [{ pattern: '%u/#', access: 'readwrite' }];
    for (const id of ['vg-1', 'vg-2'])
      expect((await st.api('POST', '/devices', { id, password: `pw-${id}-0123`, acl })).status).toBe(201); // prettier-ignore
    const a = await mustConnect(st.broker.port, 'vg-1', 'pw-vg-1-0123', 'vg-1-c');
    const b = await mustConnect(st.broker.port, 'vg-2', 'pw-vg-2-0123', 'vg-2-c');
    clients.push(a, b);
    expect((await connectV5(st.broker.port, 'vg-1', 'wrong-0123', 'vg-1-x')).code).toBe(135);
    expect(await subscribeCode(a, 'vg-1/#')).toBe(0);
    expect(await subscribeCode(a, 'other/#')).toBe(135);
    for (let i = 0; i < 20; i++) expect(await publishCode(a, `vg-1/t/${i % 4}`)).toBe(0);
    expect(await publishCode(a, 'vg-2/t')).toBe(135);

    // a revocation: b is kicked by the plugin on the broker's tick
    const kicked = closedAt(b);
    expect((await st.api('DELETE', '/devices/vg-2')).status).toBe(204);
    await kicked;

    // the stream drops and comes back
    let from = st.broker.logs().length;
    await st.stopService();
    await st.broker.waitForLog(/event stream down/, 30_000, from);
    expect(await publishCode(a, 'vg-1/t/0')).toBe(135);
    from = st.broker.logs().length;
    await st.startServiceAgain();
    await st.streamUp(from, 30_000);
    expect(await publishCode(a, 'vg-1/t/0')).toBe(0);

    // SIGHUP: Mosquitto 2.0.11 keeps v5 plugins loaded as they are across a reload
    await st.broker.reload();
    const c = await mustConnect(st.broker.port, 'vg-1', 'pw-vg-1-0123', 'vg-1-d');
    clients.push(c);
    expect(await publishCode(c, 'vg-1/t/1')).toBe(0);

    for (const x of clients) x.end(true);
    await stopValgrindClean(st.broker);
  },
  240_000,
);
