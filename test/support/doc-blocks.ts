// Fenced code blocks of the project's Markdown (README.md, docs/*.md), so tests can run or load
// what the documentation shows and fail when the two drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './processes';

export interface DocBlock {
  /** Relative to the repository root. */
  file: string;
  /** 1-based line of the first line inside the fence. */
  line: number;
  /** The fence's info string (`sh`, `conf`, …), empty when none. */
  lang: string;
  /** The `##`/`###` heading the block is under. */
  section: string;
  text: string;
}

export const DOC_FILES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

export function docBlocks(file: string): DocBlock[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const out: DocBlock[] = [];
  let section = '';
  let open: { fence: string; lang: string; line: number; body: string[] } | null = null;
  lines.forEach((raw, i) => {
    const fence = /^(\s*)(```+)\s*([\w-]*)/.exec(raw);
    if (open) {
      if (fence && fence[2] === open.fence) {
        const indent = /^\s*/.exec(lines[open.line - 2] ?? '')?.[0].length ?? 0;
        const text = open.body.map((l) => l.slice(Math.min(indent, /^\s*/.exec(l)![0].length)));
        out.push({ file, line: open.line, lang: open.lang, section, text: text.join('\n') });
        open = null;
      } else open.body.push(raw);
      return;
    }
    const heading = /^#{2,3}\s+(.*)$/.exec(raw);
    if (heading) section = heading[1]!.trim();
    if (fence) open = { fence: fence[2]!, lang: fence[3] ?? '', line: i + 2, body: [] };
  });
  return out;
}

/** A shell block as the lines a shell runs: `\` continuations joined, comments kept. */
export function shellLines(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');
}
