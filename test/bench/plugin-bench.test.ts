// Smoke test of `npm run bench:plugin` (bench/plugin.ts): the whole driver, every workload, at
// a tiny size on real processes (Redis, the built service, Mosquitto with and without the
// plugin). It proves the bench runs and writes its section; it asserts no figure (speed is
// the bench's business, not a test's).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchPlugin } from '../../bench/plugin';
import { readBenchOptions } from '../../bench/plugin-args';
import { findPluginSection, pluginSection, withPluginSection } from '../../bench/plugin-section';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'authd-bench-smoke-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('every workload runs at a tiny size and writes the labelled section', async () => {
  const results = path.join(dir, 'results.md');
  await writeFile(results, '# kept\n\n' + pluginSection('older', 'other') + '\n');
  const argv = ['--rounds', '1', '--seconds', '1', '--devices', '8', '--storm', '12', '--trials', '3', '--rss', '50', '--label', 'smoke', '--results', results]; // prettier-ignore
  await benchPlugin(readBenchOptions(argv, {}), argv);
  const text = await readFile(results, 'utf8');
  expect(text).toMatch(/^# kept/);
  expect(text).toContain(pluginSection('older', 'other'));
  const section = /<!-- bench:plugin:smoke start -->[\s\S]*<!-- bench:plugin:smoke end -->/.exec(text)?.[0] ?? ''; // prettier-ignore
  for (const w of [
    '(a) publishes/s',
    '(b) publishes/s',
    '(c) messages/s',
    '(d) devices/s',
    '(e) Revocation',
  ])
    expect(section).toContain(w);
  expect(section).toMatch(/\| all \| 3 \|/);
  expect(section).not.toMatch(/failed\*\*/);
  // (f): a figure for the plugin, or the plugin refused preload and the bench says so
  expect(section).toMatch(/\| 50 \| (preload not supported by this plugin|[\d,]+ KiB)/);
}, 240_000);

test('options: unknown workloads, flags and non-integers are refused', () => {
  expect(() => readBenchOptions(['--only', 'a,z'], {})).toThrow(/--only z/);
  expect(() => readBenchOptions(['--speed', '2'], {})).toThrow(/--speed\?/);
  expect(() => readBenchOptions(['--rounds', '0'], {})).toThrow(/--rounds 0/);
  const o = readBenchOptions(['--only', 'e', '--broker', '/x/mosquitto'], {
    BENCH_PLUGIN_ROUNDS: '2',
  });
  expect(o).toMatchObject({ only: ['e'], broker: '/x/mosquitto', rounds: 2, label: 'main' });
});

test('sections: one per label, each replaced in place, all kept by npm run bench', () => {
  let text = withPluginSection('# head\n', pluginSection('one', 'before'), 'before');
  text = withPluginSection(text, pluginSection('two', 'after'), 'after');
  text = withPluginSection(text, pluginSection('ONE', 'before'), 'before');
  expect(findPluginSection(text)).toBe(`${pluginSection('ONE', 'before')}\n\n${pluginSection('two', 'after')}`); // prettier-ignore
  expect(findPluginSection(`${pluginSection('old')}\n${text}`)).toContain(pluginSection('old'));
});
