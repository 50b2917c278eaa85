// Text from imported data (key names, user names, patterns) as a report may print it: control,
// format (bidi overrides, zero-width) and line-separator characters escaped as \u{…}, so a name
// can neither break a report line nor reorder what a terminal shows; long text cut, saying how
// much was left out. Pure.

/** Characters printed escaped: C0/C1 controls, format characters (bidi, BOM), U+2028/2029. */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** Longest text printed whole (characters). */
export const MAX_PRINTED = 200;

export function printable(text: string, max = MAX_PRINTED): string {
  const cut = text.length > max;
  const head = cut ? text.slice(0, max) : text;
  const escaped = head.replace(
    UNSAFE,
    (c) => `\\u{${(c.codePointAt(0) as number).toString(16).toUpperCase()}}`,
  );
  return cut ? `${escaped}… (${text.length - max} more characters)` : escaped;
}

/** `"text"` printable, for messages that quote a name or a pattern. */
export const quoted = (text: string, max = MAX_PRINTED): string => `"${printable(text, max)}"`;

/** Raw bytes of a name that is not UTF-8, as a report prints them: hex of the first 64. */
export function bytesShown(bytes: Buffer): string {
  const hex = bytes.subarray(0, 64).toString('hex');
  return bytes.length > 64 ? `0x${hex}… (${bytes.length} bytes)` : `0x${hex}`;
}
