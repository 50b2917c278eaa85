// Package hygiene: every runtime dependency is used by src/, nothing src/ imports is a
// devDependency, `main` and `bin` point at files the production build writes, and that build
// compiles src/ only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}
const imported = new Set(
  sources(join(root, 'src')).flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(/from '([^'.][^']*)'/g)].map((m) => {
      const spec = m[1] as string;
      return spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : (spec.split('/')[0] as string);
    }),
  ),
);

it('every runtime dependency is imported by src/, and src/ imports no devDependency', () => {
  const unused = Object.keys(pkg.dependencies).filter((d) => !imported.has(d));
  expect(unused).toEqual([]);
  const devOnly = [...imported].filter((d) => d in pkg.devDependencies && !(d in pkg.dependencies));
  expect(devOnly).toEqual([]);
});

it('the production build compiles src/ only, and main and bin point at its output', () => {
  const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
    include: string[];
  };
  expect(build.include).toEqual(['src']);
  for (const target of [pkg.main, ...Object.values(pkg.bin)]) {
    expect(target).toMatch(/^dist\/src\/.+\.js$/);
    expect(existsSync(join(root, target.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(
      true,
    );
  }
});
