// What the tests that walk a page of the docs as written share: the page's blocks, a terminal
// fed line by line, the first-run service on a pty, and the device step of the README.
import { docBlocks } from './doc-blocks';
import { sleep } from './http';
import { CLI, commandSync, freePort, ROOT, startProcess, type Proc } from './processes';
import { testRedisEnv } from './topology';

export const asRoot = process.getuid?.() === 0;
/** script(1) (util-linux) gives the service a terminal, as the README's first command has. */
export const hasScript = commandSync('sh', ['-c', 'command -v script']).code === 0;

/** The code blocks of these (file, section) pairs; `block` picks exactly one. */
export function pageBlocks(sources: [file: string, section: string][]) {
  const blocks = sources.flatMap(([file, section]) =>
    docBlocks(file).filter((b) => b.section === section),
  );
  return (what: string, pick: (text: string) => boolean): string => {
    const found = blocks.filter((b) => pick(b.text));
    if (found.length !== 1) throw new Error(`docs: expected one ${what} block`);
    return found[0]!.text;
  };
}

export const baseEnv = (prefix: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  ...testRedisEnv(),
  REDIS_KEY_PREFIX: prefix,
});

export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface Terminal {
  proc: Proc;
  run(text: string): Promise<string>;
}

/**
 * A shell fed line by line through stdin, like a terminal; `run` returns each block's output.
 * `user`: the shell runs as that user (setpriv, util-linux; the suite must be root).
 */
export function terminal(
  env: Record<string, string>,
  opts: { cwd?: string; user?: { uid: number; gid: number } } = {},
): Terminal {
  const shell = ['bash', '--noprofile', '--norc'];
  const [cmd, ...args] = opts.user
    ? [
        'setpriv',
        `--reuid=${opts.user.uid}`,
        `--regid=${opts.user.gid}`,
        '--clear-groups',
        ...shell,
      ]
    : shell;
  const sh = startProcess(cmd!, args, { env, stdin: true, cwd: opts.cwd ?? ROOT });
  let n = 0;
  return {
    proc: sh,
    async run(text: string): Promise<string> {
      const marker = `__block_${++n}_done__`;
      const from = sh.logs().length;
      sh.input(`${text}\necho ${marker}\n`);
      return until(`the shell to run:\n${text}\n(output: ${sh.logs().slice(from)})`, () => {
        const out = sh.logs().slice(from);
        const at = out.indexOf(marker);
        return at >= 0 ? out.slice(0, at) : undefined;
      });
    },
  };
}

/**
 * Step 1 of the README: the service on a terminal with no token configured prints one for this
 * run, once, and never in a log line.
 */
export async function firstRunService(
  env: Record<string, string>,
): Promise<{ term: Proc; port: number; token: string }> {
  const port = await freePort();
  const term = startProcess(
    'script',
    ['-qfec', `exec ${process.execPath} ${CLI} serve`, '/dev/null'],
    {
      env: { ...env, TERM: 'dumb', PORT: String(port) },
      stdin: true,
      cwd: ROOT,
    },
  );
  const token = await until('the first-run token', () => {
    return /export TOKEN=(\S+)/.exec(term.logs())?.[1];
  });
  expect(token.length).toBeGreaterThanOrEqual(16);
  const logLines = term
    .logs()
    .split(/\r?\n/)
    .filter((l) => l.startsWith('{'));
  expect(logLines.some((l) => l.includes('listening'))).toBe(true);
  expect(logLines.filter((l) => l.includes(token))).toEqual([]);
  return { term, port, token };
}

/** Step 2 of the README: `export TOKEN=…` pasted, the device registered in the terminal. */
export async function registerDevice(
  term: Terminal,
  block: ReturnType<typeof pageBlocks>,
  port: number,
  token: string,
): Promise<void> {
  const text = block('register', (t) => t.includes('/api/v1/devices'));
  expect(text).toMatch(/^export TOKEN=…$/m);
  const registered = await term.run(
    text
      .replace(/^export TOKEN=…$/m, `export TOKEN=${token}`)
      .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`),
  );
  const device = JSON.parse(registered) as { id: string; password?: string };
  expect(device.id).toBe('sensor-1');
}
