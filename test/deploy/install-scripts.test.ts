// `npm ci` runs no install script nobody reviewed, and warns about none: every dependency with
// one is decided in package.json's `allowScripts` (npm 11's install-script approval).
import { commandSync, ROOT, runCommand } from '../support/processes';

const npmMajor = Number(commandSync('npm', ['--version']).stdout.split('.')[0]);

// npm before 11 has no `install-scripts` command (and runs every script): nothing to check.
(npmMajor >= 11 ? it : it.skip)(
  'every installed package with an install script is decided in allowScripts',
  async () => {
    const r = await runCommand('npm', ['install-scripts', 'ls'], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('No packages with unreviewed install scripts.');
  },
);
