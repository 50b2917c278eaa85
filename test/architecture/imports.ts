// The import graph of src/, read from the sources (no compiler): for the layer rules test and
// for docs/architecture.md's commands.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const SRC = path.join(__dirname, '..', '..', 'src');

export interface Import {
  /** Importing module, relative to src/ without extension: `store/keys`. */
  from: string;
  /** Imported module, relative to src/ (`domain/acl`), or a package (`ioredis`, `node:http`). */
  to: string;
  local: boolean;
  typeOnly: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;

export function sourceModules(): string[] {
  return files(SRC).map((f) => path.relative(SRC, f).replace(/\.ts$/, ''));
}

export function readImports(): Import[] {
  const out: Import[] = [];
  for (const mod of sourceModules()) {
    const text = readFileSync(path.join(SRC, `${mod}.ts`), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] as string;
      const local = spec.startsWith('.');
      const to = local ? path.join(path.dirname(mod), spec).replace(/\\/g, '/') : spec;
      out.push({ from: mod, to, local, typeOnly: Boolean(m[2]) });
    }
  }
  return out;
}

/** The layer of a module: its directory under src/, or the file itself at the top. */
export const layerOf = (mod: string): string => (mod.includes('/') ? mod.split('/')[0]! : mod);

/** Import cycles among modules (type-only imports included), each as a path `a → b → a`. */
export function cycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, string[]>();
  for (const i of imports) if (i.local) edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (m: string) => {
    state.set(m, 'open');
    stack.push(m);
    for (const n of edges.get(m) ?? []) {
      if (state.get(n) === 'open') found.push([...stack.slice(stack.indexOf(n)), n].join(' → '));
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of edges.keys()) if (!state.has(m)) visit(m);
  return found;
}
