// PresenceStore on Redis: one slot per broker (keys.ts, presence), a registry of brokers
// scored by when each is presumed dead. Reads never span slots in one command, so the same
// code runs on standalone, Sentinel and Cluster.
import { StoreUnavailableError } from '../errors';
import {
  compareBytes,
  lexRange,
  memberOf,
  mergePage,
  splitMember,
  type Candidate,
} from '../domain/session-page';
import type { PresenceKeys } from './keys';
import { REPORT_SESSIONS } from './presence-scripts';
import {
  DISCONNECT_MESSAGE,
  type BatchOutcome,
  type BrokerState,
  type DecisionCounters,
  type ListedSession,
  type PresenceStore,
  type SessionBatch,
  type SessionQuery,
} from './presence-store';
import type { RedisClient } from './redis-client';

/** A broker not heard from for this many heartbeats has no sessions. */
export const HEARTBEATS_TO_LIVE = 3;
/** Registry rows this long past their end are removed (a clock a little behind keeps its own). */
const REGISTRY_SLACK_MS = 60_000;

const unavailable = (err: unknown): never => {
  throw new StoreUnavailableError(err);
};

const OUTCOMES: Record<string, BatchOutcome> = {
  OK: 'applied',
  DUPLICATE: 'duplicate',
  NEED_FULL: 'needFull',
};

interface StoredSession {
  a: string;
  p: number;
  t: number;
}

function decodeSession(member: string, broker: string, value: string | null): ListedSession | null {
  if (value === null) return null; // ended between the two reads
  const { username, clientid } = splitMember(member);
  const i = value.indexOf('\0');
  if (i === -1 || value.slice(0, i) !== username) return null; // taken over meanwhile
  try {
    const v = JSON.parse(value.slice(i + 1)) as StoredSession;
    return {
      username,
      clientid,
      broker,
      address: String(v.a),
      protocol: Number(v.p),
      at: Number(v.t),
    };
  } catch {
    return null;
  }
}

function decodeCounters(s: string | undefined): DecisionCounters {
  if (!s) return {};
  try {
    return JSON.parse(s) as DecisionCounters;
  } catch {
    return {};
  }
}

export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: PresenceKeys,
    private readonly channel: string,
  ) {}

  async report(b: SessionBatch, nowMs: number): Promise<BatchOutcome> {
    const ttl = HEARTBEATS_TO_LIVE * b.heartbeatMs;
    const args: (string | number)[] = [
      b.boot,
      b.seq,
      b.full ? 1 : 0,
      ttl,
      b.heartbeatMs,
      b.counters ? JSON.stringify(b.counters) : '',
      nowMs,
      b.connected.length,
    ];
    for (const c of b.connected) {
      const value = `${c.username}\0${JSON.stringify({ a: c.address, p: c.protocol, t: c.at })}`;
      args.push(c.clientid, memberOf(c.username, c.clientid), value);
    }
    for (const d of b.disconnected) args.push(d.clientid, memberOf(d.username, d.clientid));
    const k = this.keys;
    const res = (await this.redis
      .eval(REPORT_SESSIONS, 3, k.index(b.broker), k.sessions(b.broker), k.meta(b.broker), ...args)
      .catch(unavailable)) as [string];
    const outcome = OUTCOMES[res[0]] ?? 'needFull';
    if (outcome !== 'needFull') {
      await Promise.all([
        this.redis.zadd(k.brokers, nowMs + ttl, b.broker),
        this.redis.zremrangebyscore(k.brokers, '-inf', `(${nowMs - REGISTRY_SLACK_MS}`),
      ]).catch(unavailable);
    }
    return outcome;
  }

  async brokers(nowMs: number): Promise<string[]> {
    const ids = await this.redis.zrangebyscore(this.keys.brokers, nowMs, '+inf').catch(unavailable);
    return ids.sort(compareBytes);
  }

  async page(q: SessionQuery, nowMs: number) {
    const live = await this.brokers(nowMs);
    const brokers = q.broker === undefined ? live : live.filter((b) => b === q.broker);
    const perBroker = await Promise.all(
      brokers.map(async (broker): Promise<Candidate[]> => {
        const { min, max } = lexRange(broker, q.cursor, q.username);
        const members = await this.redis
          .zrangebylex(this.keys.index(broker), min, max, 'LIMIT', 0, q.limit)
          .catch(unavailable);
        return members.map((member) => ({ member, broker }));
      }),
    );
    const { page, next } = mergePage(perBroker, q.limit);
    const sessions = await this.details(page);
    return { sessions, next };
  }

  /** The stored sessions of these members (one HMGET per broker). */
  private async details(page: Candidate[]): Promise<ListedSession[]> {
    const byBroker = new Map<string, Candidate[]>();
    for (const c of page)
      (byBroker.get(c.broker) ?? byBroker.set(c.broker, []).get(c.broker)!).push(c);
    const found = new Map<Candidate, ListedSession | null>();
    await Promise.all(
      [...byBroker].map(async ([broker, cs]) => {
        const ids = cs.map((c) => splitMember(c.member).clientid);
        const values = await this.redis
          .hmget(this.keys.sessions(broker), ...ids)
          .catch(unavailable);
        cs.forEach((c, i) => found.set(c, decodeSession(c.member, broker, values[i] ?? null)));
      }),
    );
    return page.map((c) => found.get(c)).filter((s): s is ListedSession => !!s);
  }

  async online(usernames: readonly string[], nowMs: number): Promise<Set<string>> {
    const out = new Set<string>();
    if (usernames.length === 0) return out;
    const brokers = await this.brokers(nowMs);
    await Promise.all(
      brokers.flatMap((broker) =>
        usernames.map(async (u) => {
          const { min, max } = lexRange(broker, null, u);
          const n = await this.redis
            .zlexcount(this.keys.index(broker), min, max)
            .catch(unavailable);
          if (n > 0) out.add(u);
        }),
      ),
    );
    return out;
  }

  async states(nowMs: number): Promise<BrokerState[]> {
    const brokers = await this.brokers(nowMs);
    return Promise.all(
      brokers.map(async (broker) => {
        const [meta, sessions] = await Promise.all([
          this.redis.hgetall(this.keys.meta(broker)),
          this.redis.zcard(this.keys.index(broker)),
        ]).catch(unavailable);
        return {
          broker,
          sessions,
          heartbeatMs: Number(meta.heartbeatMs ?? 0),
          seenAt: Number(meta.seenAt ?? 0),
          connects: Number(meta.connects ?? 0),
          disconnects: Number(meta.disconnects ?? 0),
          counters: decodeCounters(meta.counters),
        };
      }),
    );
  }

  async requestDisconnect(username: string): Promise<void> {
    await this.redis.publish(this.channel, DISCONNECT_MESSAGE + username).catch(unavailable);
  }
}
