// A reader's place in the audit trail: for each of its streams, the id of the last entry the
// reader has. Entry ids grow within a stream (XADD refuses a lower one) but not across streams
// (two primaries' clocks; two streams in one millisecond), so one id cannot say where a reader
// stands: an entry written after a higher id of another stream was returned would be skipped.
// Per stream, nothing is skipped and nothing is read twice.
//
// Text form (opaque to clients, URL-safe): `1.<base ms>` then, per stream with a place,
// `.<stream>-<ms - base>-<seq>`. A stream not named is read from its start.

const U64_MAX = 2n ** 64n - 1n;
/** Stream numbers are 0 … STREAMS-1 (64 buckets, the common rules, the lockouts' stream). */
export const AUDIT_STREAMS = 66;
const SHAPE = /^1\.(\d{1,20})((?:\.\d{1,2}-\d{1,20}-\d{1,20}){0,66})$/;

/** Stream number → the last id read in it. */
export type AuditCursor = ReadonlyMap<number, string>;

/** Stream ids compared as numbers (both parts may exceed 2^53). */
export function idOrder(id: string): bigint {
  const dash = id.indexOf('-');
  return (BigInt(id.slice(0, dash)) << 64n) + BigInt(id.slice(dash + 1));
}

export function encodeCursor(cursor: AuditCursor): string {
  const places = [...cursor].sort(([a], [b]) => a - b);
  const parts = places.map(([s, id]) => {
    const [ms, seq] = id.split('-') as [string, string];
    return { s, ms: BigInt(ms), seq };
  });
  const base = parts.reduce((m, p) => (p.ms < m ? p.ms : m), parts[0]?.ms ?? 0n);
  return ['1', String(base), ...parts.map((p) => `${p.s}-${p.ms - base}-${p.seq}`)].join('.');
}

/** The cursor `text` stands for, or a message saying what is wrong with it. */
export function decodeCursor(text: string): AuditCursor | string {
  const m = SHAPE.exec(text);
  if (!m) return 'must be a cursor returned by GET /audit';
  const base = BigInt(m[1] as string);
  const out = new Map<number, string>();
  for (const place of (m[2] as string).split('.').slice(1)) {
    const [s, d, seq] = place.split('-').map((p) => BigInt(p)) as [bigint, bigint, bigint];
    const ms = base + d;
    if (s >= BigInt(AUDIT_STREAMS) || out.has(Number(s))) return 'names a stream twice or none';
    if (ms > U64_MAX || seq > U64_MAX) return 'has an id part above 2^64';
    out.set(Number(s), `${ms}-${seq}`);
  }
  return out;
}

/** `after` moved past `rows` (ascending within each stream). */
export function advance(
  after: AuditCursor,
  rows: readonly { stream: number; id: string }[],
): AuditCursor {
  const out = new Map(after);
  for (const r of rows) out.set(r.stream, r.id);
  return out;
}

/** `after=`: a cursor, or an entry id that stands for the same place in every stream. */
export function parseAfter(text: string): AuditCursor | string {
  if (!/^\d+-\d+$/.test(text)) return decodeCursor(text);
  const all = new Map<number, string>();
  for (let s = 0; s < AUDIT_STREAMS; s++) all.set(s, text);
  return all;
}
