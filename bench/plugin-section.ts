// The plugin bench's sections of bench/results.md, one per `--label`, between markers:
// bench/plugin.ts writes them, `npm run bench` (bench/run.ts) keeps them all when it
// rewrites the rest of the file. The unlabelled section is the first plugin bench's.
const start = (label: string) => `<!-- bench:plugin${label ? `:${label}` : ''} start -->`;
const end = (label: string) => `<!-- bench:plugin${label ? `:${label}` : ''} end -->`;
const ANY = /<!-- bench:plugin(:[\w.+-]+)? start -->[\s\S]*?<!-- bench:plugin\1 end -->/g;

/** `body` wrapped in the markers of `label`. */
export const pluginSection = (body: string, label = ''): string =>
  `${start(label)}\n${body}\n${end(label)}`;

/** Every plugin section found in `text`, in order, or ''. */
export function findPluginSection(text: string): string {
  return (text.match(ANY) ?? []).join('\n\n');
}

/** `text` with the section of `label` replaced by `section` (appended when it had none). */
export function withPluginSection(text: string, section: string, label = ''): string {
  const at = text.indexOf(start(label));
  const stop = text.indexOf(end(label), at);
  if (at >= 0 && stop > at) {
    const old = text.slice(at, stop + end(label).length);
    return text.replace(old, () => section);
  }
  return `${text.trimEnd()}\n\n${section}\n`.trimStart();
}
