// The layer rules of docs/architecture.md, checked on the sources: what each layer may import,
// which packages only one layer may use, no HTTP statuses below the API, no import cycles.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cycles, layerOf, readImports, sourceModules, SRC } from './imports';

const FOUNDATION = ['errors', 'logger', 'config', 'redact'];
/** Local layers each layer may import (besides itself). Missing: anything (composition). */
const ALLOWED: Record<string, string[]> = {
  domain: ['errors'],
  contract: ['domain'],
  store: ['domain', ...FOUNDATION],
  devices: ['domain', 'store', 'contract', ...FOUNDATION],
  checks: ['domain', 'store', 'contract', 'ops/metrics', ...FOUNDATION],
  export: ['domain', 'store', 'contract', 'ops/metrics', ...FOUNDATION],
  errors: [],
  redact: [],
  logger: ['redact', 'errors'],
  config: ['domain', 'redact'],
};
/** Packages only some layers may import (the go-auth importer reads a foreign Redis). */
const PACKAGES: Record<string, (mod: string) => boolean> = {
  ioredis: (m) => m.startsWith('store/') || m.startsWith('cli/import-goauth'),
  'rate-limiter-flexible': (m) => m.startsWith('store/'),
  express: (m) => m.startsWith('api/') || m.startsWith('ops/') || m === 'app',
  helmet: (m) => m.startsWith('api/') || m === 'app',
  'node:child_process': (m) => m === 'export/reload',
};
/** Where an HTTP status may be written: the API, the fast check path, the composition. */
const BELOW_API = ['store', 'domain', 'devices', 'export', 'contract'].map((d) => `${d}/`);
const CHECK_SERVICE = ['checks/check-service', 'checks/login-throttle', 'checks/lockout-list'];

const imports = readImports();

it('each layer imports only the layers below it', () => {
  const bad = imports
    .filter((i) => i.local)
    .filter((i) => {
      const allowed = ALLOWED[layerOf(i.from)];
      if (!allowed) return false;
      const to = layerOf(i.to);
      return to !== layerOf(i.from) && !allowed.includes(to) && !allowed.includes(i.to);
    })
    .map((i) => `${i.from} → ${i.to}`);
  expect(bad).toEqual([]);
});

it('Redis, Express and child processes stay in their layers', () => {
  const bad = imports
    .filter((i) => !i.local && PACKAGES[i.to] && !PACKAGES[i.to]!(i.from))
    .map((i) => `${i.from} → ${i.to}`);
  expect(bad).toEqual([]);
});

it('nothing below the API writes an HTTP status or reads one off an error', () => {
  const status =
    /new AppError\(\s*\d|\bstatus\s*[:=]\s*[45]\d\d\b|\{\s*status\?:\s*number\s*\}|http-status/;
  const bad = sourceModules()
    .filter((m) => BELOW_API.some((d) => m.startsWith(d)) || CHECK_SERVICE.includes(m))
    .filter((m) => status.test(readFileSync(path.join(SRC, `${m}.ts`), 'utf8')));
  expect(bad).toEqual([]);
});

it('no module outside src/store holds a Redis client (the go-auth importer aside)', () => {
  const bad = imports
    .filter((i) => i.to === 'store/redis-client' && !i.from.startsWith('store/'))
    .filter((i) => !i.from.startsWith('cli/import-goauth'))
    .map((i) => `${i.from} → ${i.to}`);
  expect(bad).toEqual([]);
});

it('the import graph has no cycles', () => {
  expect(cycles(imports)).toEqual([]);
});

it('the rules can fail: a planted violation of each kind is found', () => {
  const planted = [
    { from: 'domain/x', to: 'store/keys', local: true, typeOnly: false },
    { from: 'store/y', to: 'store/z', local: true, typeOnly: true },
    { from: 'store/z', to: 'store/y', local: true, typeOnly: false },
  ];
  expect(ALLOWED.domain).not.toContain('store');
  expect(cycles(planted)).toEqual(['store/y → store/z → store/y']);
  expect(PACKAGES.ioredis!('checks/login-throttle')).toBe(false);
});

const ROOT = path.join(SRC, '..');
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

// Built from parts so this file does not match itself.
const SPAWNS = new RegExp(`from 'node:${'child_'}process'`);

it('tests start processes through test/support/proc/core.ts only', () => {
  const spawning = ['test', 'bench']
    .flatMap((d) => walk(path.join(ROOT, d)))
    .filter((f) => /\.tsx?$/.test(f))
    .filter((f) => SPAWNS.test(readFileSync(f, 'utf8')))
    .map((f) => path.relative(ROOT, f));
  expect(spawning).toEqual(['test/support/proc/core.ts']);
});

it('no source or test-support file is over 450 lines', () => {
  const long = ['src', 'test/support', 'web/src']
    .flatMap((d) => walk(path.join(ROOT, d)))
    .filter((f) => /\.tsx?$/.test(f))
    .filter((f) => readFileSync(f, 'utf8').split('\n').length > 450)
    .map((f) => path.relative(ROOT, f));
  expect(long).toEqual([]);
});
