// The plugin's broker-free C parts (JSON strings incl. surrogate pairs, SSE framing, the
// cache's bound, eviction and drops, the bounded queue): `make -C mosquitto/plugin check`
// builds mosquitto/plugin/units.c and runs it under valgrind when installed.
import { runCommand } from '../support/processes';
import { PLUGIN_DIR } from '../support/plugin';

test('make check: every unit check passes, valgrind-clean', async () => {
  const r = await runCommand('make', ['-s', '-C', PLUGIN_DIR, 'check'], { timeoutMs: 180_000 });
  expect({ code: r.code, out: r.stdout + r.stderr }).toMatchObject({
    code: 0,
    out: expect.stringContaining('units: all checks passed'),
  });
}, 200_000);
