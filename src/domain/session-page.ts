// Paging over the sessions of several brokers (issue 27): each broker keeps its sessions as
// `<username>\0<clientid>` members of a sorted set; a page is the merge, in (member bytes,
// broker bytes) order, of each broker's members after the cursor. A session present from the
// first page to the last is in exactly one page, whatever comes and goes meanwhile.
// Pure: no Redis. MQTT forbids U+0000 in user names and client ids (MQTT 5.0 §1.5.4).

export const SEP = '\0';

/** Where the last page ended: the member and the broker it was on. */
export interface SessionCursor {
  member: string;
  broker: string;
}

export const memberOf = (username: string, clientid: string): string => username + SEP + clientid;

/** The user name and client id of a member (the member of a name with no NUL). */
export function splitMember(member: string): { username: string; clientid: string } {
  const i = member.indexOf(SEP);
  return i === -1
    ? { username: member, clientid: '' }
    : { username: member.slice(0, i), clientid: member.slice(i + 1) };
}

export const compareBytes = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The ZRANGEBYLEX bounds to read on `broker`: after the cursor (inclusive of the cursor's
 * member on brokers that sort after the cursor's broker), within one user name's members when
 * `username` is given.
 */
export function lexRange(
  broker: string,
  cursor: SessionCursor | null,
  username?: string,
): { min: string; max: string } {
  let min = username === undefined ? '-' : `[${username}${SEP}`;
  const max = username === undefined ? '+' : `(${username}\x01`;
  if (cursor) {
    const floor = username === undefined ? null : username + SEP;
    if (floor === null || compareBytes(cursor.member, floor) >= 0) {
      min = (compareBytes(broker, cursor.broker) > 0 ? '[' : '(') + cursor.member;
    }
  }
  return { min, max };
}

export interface Candidate {
  member: string;
  broker: string;
}

/**
 * The first `limit` candidates in page order, from per-broker reads of at most `limit` each,
 * and the cursor of the next page (null: nothing after these on any broker).
 */
export function mergePage(
  perBroker: readonly Candidate[][],
  limit: number,
): { page: Candidate[]; next: SessionCursor | null } {
  const all = perBroker.flat();
  all.sort((a, b) => compareBytes(a.member, b.member) || compareBytes(a.broker, b.broker));
  const page = all.slice(0, limit);
  const last = page[page.length - 1];
  // A broker that gave `limit` members may hold more; with fewer in all, every broker is done.
  const more = all.length >= limit && last !== undefined;
  return { page, next: more ? { member: last.member, broker: last.broker } : null };
}

export function encodeCursor(c: SessionCursor): string {
  return Buffer.from(JSON.stringify([c.member, c.broker]), 'utf8').toString('base64url');
}

/** null: not a cursor this module made. */
export function decodeCursor(s: string): SessionCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [member, broker] = v as unknown[];
    if (typeof member !== 'string' || typeof broker !== 'string') return null;
    return { member, broker };
  } catch {
    return null;
  }
}
