// Where a v2 event stream starts: after the reader's Last-Event-ID, with the changes it missed
// read from the change log, or — no id, an id of another store or of this one before it lost
// its data, one older than the log holds — at the log's position now, as a reset (the reader
// revalidates what it holds: docs/broker-protocol.md).
import { loggedChange, type ChangeInfo } from '../store/change-feed';
import { decodeCursor, type ChangeLog } from '../store/change-log';

/**
 * More missed changes than this are not replayed: a reset (the reader refetches the records of
 * its connected users) costs less than thousands of events, and they would not fit the
 * stream's buffer (256 KiB) at once.
 */
export const MAX_REPLAY = 512;

export interface V2Start {
  resumed: boolean;
  /** The position `hello` names; `missed` follow it. */
  from: number[];
  missed: { name: 'user' | 'common'; data: object; info: ChangeInfo }[];
}

export async function startV2(
  log: Pick<ChangeLog, 'revisions' | 'since'>,
  scope: string,
  lastEventId: string | undefined,
): Promise<V2Start> {
  const from = lastEventId === undefined ? null : decodeCursor(scope, lastEventId);
  const got = from ? await log.since(from) : null;
  if (!from || !got || got.changes.length > MAX_REPLAY) {
    return { resumed: false, from: await log.revisions(), missed: [] };
  }
  const missed = got.changes.map((c) => {
    const { username, info } = loggedChange(c);
    return username === null
      ? { name: 'common' as const, data: {}, info }
      : { name: 'user' as const, data: { username, revoke: info.revoke }, info };
  });
  return { resumed: true, from, missed };
}
