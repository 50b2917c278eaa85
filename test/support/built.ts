// Suites that run the real binary need dist/: without it they fail, naming the command,
// instead of passing by being skipped.
import { existsSync } from 'node:fs';

export function requireBuilt(file: string): void {
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
}
