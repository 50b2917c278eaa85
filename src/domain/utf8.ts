// Byte counts without Buffer, so the domain (and the contract built on it) type-checks and
// runs anywhere, the console's build included.

/** Bytes of `s` in UTF-8, as Buffer.byteLength counts them (a lone surrogate: 3, as U+FFFD). */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && isLow(s.charCodeAt(i + 1))) {
      bytes += 2; // 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Bytes a padded base64 string (length a multiple of 4, valid alphabet) decodes to. */
export const base64Length = (s: string): number =>
  (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
