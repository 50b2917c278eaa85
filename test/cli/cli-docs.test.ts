// docs/cli.md's table and the program agree: every command commander knows (subcommands as
// `device list`) has a row, and every row names a command that exists, with options it has.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli';
import { ROOT } from '../support/processes';

function commandsOf(cmd: Command, prefix = ''): Map<string, Command> {
  const out = new Map<string, Command>();
  for (const sub of cmd.commands) {
    const name = `${prefix}${sub.name()}`;
    if (sub.commands.length) for (const [n, c] of commandsOf(sub, `${name} `)) out.set(n, c);
    else out.set(name, sub);
  }
  return out;
}

/** The first cell of each row of the table under "| command |": the command names and options. */
function docRows(): { name: string; cell: string }[] {
  const lines = readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^\| command \|/.test(l));
  expect(start).toBeGreaterThan(-1);
  const rows: { name: string; cell: string }[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cell = /^\|\s*`([^`]+)`/.exec(line)?.[1];
    expect(cell).toBeDefined();
    // The name: the leading lower-case words (`device list`), before arguments and options.
    const name = (cell as string).match(/^[a-z][a-z-]*(?: [a-z][a-z-]*)?/)?.[0] ?? '';
    rows.push({ name, cell: cell as string });
  }
  return rows;
}

describe('docs/cli.md', () => {
  const program = commandsOf(buildProgram());
  const rows = docRows();

  it('has a row for every command, and no row for one that does not exist', () => {
    const documented = rows.map((r) => r.name).sort();
    expect(documented).toEqual([...program.keys()].sort());
  });

  it("names only options the command has, and every command's options", () => {
    for (const { name, cell } of rows) {
      const cmd = program.get(name);
      expect(cmd).toBeDefined();
      const inDoc = new Set(cell.match(/--[a-z][a-z-]*/g) ?? []);
      const real = new Set((cmd as Command).options.map((o) => o.long as string));
      expect({ name, options: [...inDoc].sort() }).toEqual({ name, options: [...real].sort() });
    }
  });

  it('catches a missing row (the check itself can fail)', () => {
    const without = rows.filter((r) => r.name !== 'lockout-clear').map((r) => r.name);
    expect(without.sort()).not.toEqual([...program.keys()].sort());
  });
});
