// Every Mosquitto config the documentation shows (```conf blocks in README.md and docs/*.md)
// loads in a real mosquitto (Debian's 2.0.11), so a copied block cannot break a broker.
//
// What is rewritten before loading, and why:
// - plugin lines (`auth_plugin`, `plugin`, `global_plugin`, `auth_opt_*`, `plugin_opt_*`) are
//   taken out: no plugin .so is on this machine, and mosquitto refuses an `auth_opt_` without
//   its plugin. Those lines are checked here instead, by the rule that breaks them when copied:
//   Mosquitto takes everything after the key to the end of the line as the value, so each must
//   be exactly `key value` (one word, no trailing comment).
// - `listener` and `protocol` lines are taken out: the harness adds a listener on a free port
//   (1883 and 1884 may be taken on a machine with a broker).
// - file paths (`password_file`, `acl_file`, `pid_file`, `persistence_location`) point into a
//   temp dir, where empty passwd and acl files exist.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOC_FILES, docBlocks } from '../support/doc-blocks';
import { ROOT, startMosquitto } from '../support/processes';

const CONF_LANGS = new Set(['conf', 'mosquitto']);
const PLUGIN_LINE = /^(auth_plugin|plugin|global_plugin|auth_opt_\S+|plugin_opt_\S+)\s/;
const PATH_OPTION = /^(password_file|acl_file|pid_file|persistence_location)\s+(\S+)$/;
/** Options whose presence marks a block as Mosquitto configuration, whatever its fence says. */
const MOSQUITTO_OPTION =
  /^(auth_opt_\S+|auth_plugin|plugin|listener|password_file|acl_file|allow_anonymous|pid_file)\s/m;

const blocks = DOC_FILES.flatMap(docBlocks);
const confBlocks = blocks.filter((b) => CONF_LANGS.has(b.lang));

/** Lines with a value that would carry a comment or more than one word into mosquitto. */
function copyHazards(text: string, where: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    if (/\s#/.test(t)) out.push(`${where}+${i}: trailing comment: ${t}`);
    if (PLUGIN_LINE.test(t) && t.split(/\s+/).length !== 2)
      out.push(`${where}+${i}: not "key value": ${t}`);
  });
  return out;
}

it('the documentation has Mosquitto config blocks, and every one is fenced as conf', () => {
  expect(confBlocks.length).toBeGreaterThanOrEqual(2);
  const untagged = blocks
    .filter((b) => !CONF_LANGS.has(b.lang) && b.lang !== 'sh' && MOSQUITTO_OPTION.test(b.text))
    .map((b) => `${b.file}:${b.line} (${b.lang || 'no language'})`);
  expect(untagged).toEqual([]);
});

it('no config line in the docs or mosquitto/*.conf carries a trailing comment', () => {
  const hazards = confBlocks.flatMap((b) => copyHazards(b.text, `${b.file}:${b.line}`));
  for (const f of readdirSync(path.join(ROOT, 'mosquitto')).filter((n) => n.endsWith('.conf'))) {
    const text = readFileSync(path.join(ROOT, 'mosquitto', f), 'utf8');
    hazards.push(...copyHazards(text, `mosquitto/${f}:1`));
  }
  expect(hazards).toEqual([]);
});

it('the hazard check catches the mistake it is for', () => {
  expect(copyHazards('auth_opt_http_params_mode json          # or form', 'x')).not.toEqual([]);
  expect(copyHazards('auth_opt_backends http redis', 'x')).toHaveLength(1);
  expect(copyHazards('# a comment\nauth_opt_backends http', 'x')).toEqual([]);
});

describe.each(confBlocks.map((b) => [`${b.file}:${b.line}`, b] as const))(
  'the block at %s',
  (_where, b) => {
    it('loads in a real mosquitto', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'authd-docconf-'));
      try {
        await writeFile(path.join(dir, 'passwd'), '');
        await writeFile(path.join(dir, 'acl'), '');
        const config = b.text
          .split('\n')
          .filter((l) => !PLUGIN_LINE.test(l.trim()) && !/^(listener|protocol)\s/.test(l.trim()))
          .map((l) => {
            const m = PATH_OPTION.exec(l.trim());
            if (!m) return l;
            const name = m[1] === 'persistence_location' ? '' : path.basename(m[2]!);
            return `${m[1]} ${path.join(dir, name)}${m[1] === 'persistence_location' ? '/' : ''}`;
          })
          .join('\n');
        const broker = await startMosquitto({ config, dir });
        try {
          await broker.waitForLog(/mosquitto version \S+ running/);
          expect(broker.logs()).not.toMatch(/Error/);
        } finally {
          await broker.stop();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
