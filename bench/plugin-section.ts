// The plugin bench's section of bench/results.md, between markers: bench/plugin.ts writes it,
// `npm run bench` (bench/run.ts) keeps it when it rewrites the rest of the file.
const START = '<!-- bench:plugin start -->';
const END = '<!-- bench:plugin end -->';

/** `body` wrapped in the markers. */
export const pluginSection = (body: string): string => `${START}\n${body}\n${END}`;

/** The section found in `text`, or ''. */
export function findPluginSection(text: string): string {
  const at = text.indexOf(START);
  const end = text.indexOf(END, at);
  return at >= 0 && end > at ? text.slice(at, end + END.length) : '';
}

/** `text` with its section replaced by `section` (appended when it had none). */
export function withPluginSection(text: string, section: string): string {
  const old = findPluginSection(text);
  if (old) return text.replace(old, () => section);
  return `${text.trimEnd()}\n\n${section}\n`.trimStart();
}
