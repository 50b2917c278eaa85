// The plugin's broker-free C parts (JSON strings incl. surrogate pairs, SSE framing, the
// cache's bound, eviction and drops, the bounded queue, the in-broker policy: rules, records,
// verifier) and every case of test/vectors/decisions.json (reason included) and verifiers.json decided in C:
// `make -C mosquitto/plugin check` builds mosquitto/plugin/units.c and runs it under valgrind
// when installed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../support/processes';
import { PLUGIN_DIR } from '../support/plugin';

test('make check: every unit check passes, valgrind-clean', async () => {
  const r = await runCommand('make', ['-s', '-C', PLUGIN_DIR, 'check'], { timeoutMs: 180_000 });
  expect({ code: r.code, out: r.stdout + r.stderr }).toMatchObject({
    code: 0,
    out: expect.stringContaining('units: all checks passed'),
  });
  const count = (file: string): number =>
    (JSON.parse(readFileSync(join(__dirname, '../vectors', file), 'utf8')) as { cases: unknown[] })
      .cases.length;
  const n = count('decisions.json');
  const v = count('verifiers.json');
  expect(n).toBeGreaterThan(1000);
  expect(v).toBeGreaterThan(10);
  expect(r.stdout).toContain(`vectors: decisions ${n} cases, ${n} agree, 0 disagree`);
  expect(r.stdout).toContain(`vectors: verifiers ${v} cases, ${v} agree, 0 disagree`);
}, 200_000);
