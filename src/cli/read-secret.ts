// Reads a password for the CLI. On a terminal: no echo, Enter ends it, Backspace edits,
// Ctrl-C aborts. Piped: everything up to EOF, less one trailing newline. Either way the
// API's length rules apply (the same schema).
import type { Readable, Writable } from 'node:stream';
import { passwordSchema } from '../domain/device-schemas';
import { badRequest } from '../errors';

interface TtyInput extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

function fromTerminal(input: TtyInput, prompt: Writable, text: string): Promise<string> {
  // Echo off before the prompt shows: nothing typed after it may reach the screen.
  input.setRawMode?.(true);
  input.setEncoding('utf8');
  prompt.write(text);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err: Error | null) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      prompt.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(null);
        if (ch === '\u0003') return done(new Error('aborted'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

async function fromPipe(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function readSecret(
  text: string,
  input: TtyInput = process.stdin,
  prompt: Writable = process.stderr,
): Promise<string> {
  const value = input.isTTY ? await fromTerminal(input, prompt, text) : await fromPipe(input);
  const r = passwordSchema.safeParse(value);
  if (!r.success) throw badRequest(`password: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return value;
}
