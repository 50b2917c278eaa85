// Sessions for the API and the CLI alike (issue 27): a page in the API's shape, and Disconnect
// (the brokers are asked over the event stream; the device is not revoked).
import { notFound, validationError } from '../errors';
import { decodeCursor, encodeCursor } from '../domain/session-page';
import type { Session, SessionList } from '../contract/sessions';
import type { ListedSession, PresenceStore } from '../store/presence-store';
import type { Change, DeviceService } from './device-service';

export const shownSession = (s: ListedSession): Session => ({
  username: s.username,
  clientid: s.clientid,
  broker: s.broker,
  address: s.address,
  protocol: s.protocol,
  connectedAt: new Date(s.at).toISOString(),
});

export async function listSessions(
  presence: PresenceStore,
  q: { username?: string; broker?: string; limit: number; cursor?: string },
): Promise<SessionList> {
  const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
  if (q.cursor !== undefined && !cursor) {
    throw validationError('query.cursor: not a cursor', [
      { field: 'query.cursor', message: 'not a cursor' },
    ]);
  }
  const page = await presence.page(
    { username: q.username, broker: q.broker, limit: q.limit, cursor },
    Date.now(),
  );
  return {
    sessions: page.sessions.map(shownSession),
    next: page.next ? encodeCursor(page.next) : null,
  };
}

/** Every session of one user on the live brokers (a device holds a handful). */
export async function sessionsOf(
  presence: PresenceStore,
  username: string,
): Promise<ListedSession[]> {
  const out: ListedSession[] = [];
  let cursor = null;
  do {
    const page = await presence.page({ username, limit: 1000, cursor }, Date.now());
    out.push(...page.sessions);
    cursor = page.next;
  } while (cursor);
  return out;
}

/**
 * Asks every broker to end `id`'s sessions; how many presence knew of. `record` audits it
 * (required: unaudited, the call fails and a retry, harmless, audits it).
 */
export async function disconnectDevice(
  deps: { presence: PresenceStore; devices: Pick<DeviceService, 'get'> },
  record: (change: Change) => Promise<void>,
  actor: string,
  id: string,
): Promise<{ username: string; sessions: number }> {
  if (!(await deps.devices.get(id))) throw notFound(`device "${id}" not found`);
  const sessions = (await sessionsOf(deps.presence, id)).length;
  await deps.presence.requestDisconnect(id);
  await record({ actor, action: 'disconnect', target: id, before: { sessions }, after: null });
  return { username: id, sessions };
}
