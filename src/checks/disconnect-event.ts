// `disconnect {"username"}` on GET /mqtt/events (docs/broker-protocol.md; issue 27): an
// operator asked every broker to end a user's sessions without revoking the device. The
// request reaches every service process as a message on the events channel (presence-store.ts)
// and each writes it to its own streams. Not in the change log: a request is for the sessions
// open now; a plugin whose stream is down at that moment misses it, and the operator sees how
// many sessions were asked to close (GET /api/v1/sessions shows what remains) and may ask again.
import type { ChangeFeed } from '../store/change-feed';

/** Calls `send` with the event's data for every disconnect request the feed hears. */
export function onDisconnectRequests(
  feed: Pick<ChangeFeed, 'on'>,
  send: (data: { username: string }) => void,
): void {
  feed.on('disconnect', (username) => send({ username }));
}
