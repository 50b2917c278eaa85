// Who is online (issue 27): the sessions each broker's plugin reports, per broker, with the
// broker's TTL (3 heartbeats), so a broker that dies takes its sessions with it.
// The Redis implementation is presence-redis.ts; the protocol is docs/broker-protocol.md.
import type { SessionCursor } from '../domain/session-page';

export interface SessionRecord {
  username: string;
  clientid: string;
  address: string;
  protocol: number;
  /** When the session started (CONNECT), ms since the epoch, by the broker's clock. */
  at: number;
}

export interface DecisionCounters {
  [decision: string]: Record<string, number>;
}

/** One POST /mqtt/sessions, checked (checks/sessions-body.ts). */
export interface SessionBatch {
  broker: string;
  boot: string;
  seq: number;
  full: boolean;
  heartbeatMs: number;
  connected: SessionRecord[];
  disconnected: { username: string; clientid: string }[];
  counters?: DecisionCounters;
}

/**
 * applied; duplicate (this seq was applied already: a retry); needFull (the service does not
 * hold this broker's state — never heard of it, expired, another boot, a seq skipped — and
 * applied nothing: the plugin sends everything it holds with `full: true`).
 */
export type BatchOutcome = 'applied' | 'duplicate' | 'needFull';

export interface ListedSession extends SessionRecord {
  broker: string;
}

export interface BrokerState {
  broker: string;
  sessions: number;
  heartbeatMs: number;
  /** The last batch, ms since the epoch (the service's clock). */
  seenAt: number;
  connects: number;
  disconnects: number;
  counters: DecisionCounters;
}

export interface SessionQuery {
  username?: string;
  broker?: string;
  limit: number;
  cursor: SessionCursor | null;
}

export interface PresenceStore {
  report(batch: SessionBatch, nowMs: number): Promise<BatchOutcome>;
  /** Brokers heard from within their 3 heartbeats, in byte order of their ids. */
  brokers(nowMs: number): Promise<string[]>;
  page(
    q: SessionQuery,
    nowMs: number,
  ): Promise<{ sessions: ListedSession[]; next: SessionCursor | null }>;
  /** Which of these user names have a session on a live broker. */
  online(usernames: readonly string[], nowMs: number): Promise<Set<string>>;
  /** Every live broker's state (metrics, the console's Live page). */
  states(nowMs: number): Promise<BrokerState[]>;
  /** Asks every broker to end `username`'s sessions (the `disconnect` event on the stream). */
  requestDisconnect(username: string): Promise<void>;
}

/** The events channel's message for a disconnect request: `d:<username>` (change-feed.ts). */
export const DISCONNECT_MESSAGE = 'd:';
