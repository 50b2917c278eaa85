// `npm run bench:plugin`: Mosquitto loading the mqtt-authd plugin beside the same broker
// reading the passwd + acl_file the service exports for the same devices, each workload as
// plugin ÷ files in one run (bench/plugin-run.ts). Writes the `--label` section of
// bench/results.md (between its markers; `npm run bench` keeps it). Options:
// bench/plugin-args.ts (`--only a,b,c,d,e,f --rounds N --label X --broker <bin>`, …).
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../test/support/processes';
import { readBenchOptions, type BenchOptions } from './plugin-args';
import { renderPluginBench, type Machine } from './plugin-report';
import { runPluginBench } from './plugin-run';
import { pluginSection, withPluginSection } from './plugin-section';

async function machine(broker: string): Promise<Machine> {
  const v = await runCommand(broker, ['-h']);
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memGiB: os.totalmem() / 2 ** 30,
    kernel: os.release(),
    node: process.version,
    broker:
      /mosquitto version [\w.]+/.exec(v.stdout + v.stderr)?.[0] ?? 'mosquitto (version unknown)',
  };
}

/** Runs the bench and writes its section; the section's text. */
export async function benchPlugin(o: BenchOptions, argv: string[]): Promise<string> {
  const m = await machine(o.broker);
  console.log(`${m.cpu} × ${m.cores}, ${m.broker}, workloads ${o.only.join(',')}, label ${o.label}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`); // prettier-ignore
  const results = await runPluginBench(o);
  const command = ['npm run bench:plugin --', ...argv].join(' ').replace(/ --$/, '');
  const body = renderPluginBench(o, results, m, new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', command); // prettier-ignore
  const section = pluginSection(body, o.label);
  const before = existsSync(o.results) ? await readFile(o.results, 'utf8') : '';
  await writeFile(o.results, withPluginSection(before, section, o.label));
  console.log(`\n${section}\n\n(written to ${path.relative(process.cwd(), o.results)})`);
  return section;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  benchPlugin(readBenchOptions(argv, process.env), argv).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
