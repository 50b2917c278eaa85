// `npm start`'s first step: builds only what is older than its sources (then `mqtt-authd serve`
// runs), so a restart answers in 0.53–0.70 s (0.13 s of it here) instead of rebuilding for 8–13 s.
// Three outputs, each with its inputs: the service (dist/src, from src/ and the tsconfigs), the
// console (dist/admin, from web/) and the Mosquitto plugin (mosquitto/plugin/mqtt-authd.so, via make, which knows its own
// dependencies). A plugin that cannot be built is reported, not fatal: the service runs without
// it (go-auth backend, export).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const root = path.resolve(import.meta.dirname, '..');
const at = (p) => path.join(root, p);

/** The newest modification time under the paths (files and directories, recursively); 0 if none. */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    t = Math.max(t, st.mtimeMs);
    if (st.isDirectory()) t = Math.max(t, newest(readdirSync(p).map((name) => path.join(p, name))));
  }
  return t;
}
/** The output's time, or -1 when it is missing (always older than any source). */
const builtAt = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** Runs a build step; on failure removes `output` (tsc emits even on a type error, and a
 * half-done output must not look up to date next time) and exits unless not `fatal`. */
function run(cmd, args, what, { output, fatal = true } = {}) {
  process.stderr.write(`start: building ${what}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status === 0) return true;
  if (output) rmSync(output, { force: true });
  if (fatal) process.exit(r.status ?? 1);
  return false;
}

const configs = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
// tsc (not incremental) rewrites every output, so the CLI's entry file dates the last build.
if (builtAt(at('dist/src/cli.js')) < newest([at('src'), ...configs.map(at)])) {
  run(
    process.execPath,
    [at('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    'the service (tsc)',
    { output: at('dist/src/cli.js') },
  );
}
if (
  builtAt(at('dist/admin/app.js')) <
  newest([at('web'), at('scripts/build-web.mjs'), at('package-lock.json')])
) {
  run(process.execPath, [at('scripts/build-web.mjs')], 'the console (esbuild)', {
    output: at('dist/admin/app.js'),
  });
}
// make decides itself what is stale; `make -q` says whether anything is, without output.
if (spawnSync('make', ['-q', '-C', 'mosquitto/plugin'], { cwd: root }).status !== 0) {
  if (!run('make', ['-s', '-C', 'mosquitto/plugin'], 'the Mosquitto plugin', { fatal: false }))
    process.stderr.write(
      'start: the plugin did not build (run scripts/setup.sh for its headers); the service runs without it\n',
    );
}
