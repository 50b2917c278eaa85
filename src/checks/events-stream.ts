// GET /mqtt/events: the change feed as server-sent events, for the Mosquitto plugin (protocol in
// docs/events.md, v2 in docs/broker-protocol.md). A stream exists only while the feed is up:
// when the subscription drops, every stream ends at once, so a plugin never trusts its cache
// while changes could go unannounced. v2 (`?v=2`): every event has an `id:` (a cursor of the
// change log) and a reader that comes back with `Last-Event-ID` gets what it missed
// (events-resume.ts), from any service process.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../ops/metrics';
import type { ChangeFeed, ChangeInfo } from '../store/change-feed';
import { encodeCursor, type ChangeLog } from '../store/change-log';
import { requestedHeartbeatMs } from './events-heartbeat';
import { onDisconnectRequests } from './disconnect-event';
import { startV2, type V2Start } from './events-resume';
import { sendCurrentLocks, type LockEvents } from './lock-events';

export const EVENTS_PATH = '/mqtt/events';
export const EVENTS_VERSION = 1;
/** A reader that lets this much pile up is stuck: its stream is cut (it will reconnect). */
const MAX_BUFFERED_BYTES = 256 * 1024;

export type EventName = 'hello' | 'user' | 'common' | 'reset' | 'disconnect' | 'lock';

/** One event: `event: <name>`, one line of JSON (JSON.stringify escapes every line break). */
export const frame = (event: EventName, data: object): string =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export interface EventStreamsDeps {
  config: Pick<Config, 'EVENTS_HEARTBEAT_MS' | 'EVENTS_MAX_STREAMS' | 'BROKER_TOKEN_SHA256'>;
  feed: Pick<ChangeFeed, 'isUp' | 'on'>;
  /** v2's cursors: the change log, and the scope of this store's cursors now. */
  changeLog?: Pick<ChangeLog, 'revisions' | 'since'>;
  cursorScope?: () => string;
  metrics: Metrics;
  logger: Logger;
  /** `lock` events: lockouts starting and cleared, and the current ones after `hello`. */
  lockEvents?: LockEvents;
}

export interface EventStreams {
  /** Answers a request to EVENTS_PATH (any method). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Ends every stream (they reconnect): what they hold may be wrong (the store lost data). */
  endAll(why: string): void;
  /** Ends every stream and refuses new ones (shutdown: server.close() would wait for them). */
  close(): void;
  readonly size: number;
}

/** A change as the streams send it. */
interface Outgoing {
  name: EventName;
  data: object;
  info: ChangeInfo;
}

/** v2: the position sent last in each log (null while its start is read: changes wait). */
interface Stream {
  v: 1 | 2;
  revs: number[] | null;
  pending: Outgoing[];
}

const NO_POSITION: ChangeInfo = { kind: 'user', revoke: false };

const wantsV2 = (url: string | undefined) => /[?&]v=2(&|$)/.test(url ?? '');

function refuse(res: ServerResponse, status: number, text: string, headers = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * The brokers' credential (BROKER_TOKEN_SHA256): `Authorization: Bearer <token>`, hashed and
 * compared with every configured digest in constant time (no early exit). null: no credential
 * is configured, every request passes.
 */
export function brokerAuth(hexDigests: readonly string[] | undefined) {
  if (!hexDigests || hexDigests.length === 0) return null;
  const known = hexDigests.map((h) => Buffer.from(h, 'hex'));
  return (header: string | string[] | undefined): boolean => {
    if (typeof header !== 'string') return false; // absent, or sent twice
    const m = /^Bearer (\S+)$/i.exec(header);
    if (!m) return false;
    const given = createHash('sha256')
      .update(m[1] as string, 'utf8')
      .digest();
    let ok = false;
    for (const k of known) if (timingSafeEqual(given, k)) ok = true;
    return ok;
  };
}

export function createEventStreams(deps: EventStreamsDeps): EventStreams {
  const { config, feed, metrics, logger } = deps;
  const authorized = brokerAuth(config.BROKER_TOKEN_SHA256);
  if (!authorized) {
    logger.warn(
      'BROKER_TOKEN_SHA256 is not set: /mqtt/events is open to any local client (it can read ' +
        'every changed device name and hold stream slots); set it and plugin_opt_token_file',
    );
  }
  const streams = new Map<ServerResponse, Stream>();
  const sent = {
    hello: metrics.eventsSent.labels('hello'),
    user: metrics.eventsSent.labels('user'),
    common: metrics.eventsSent.labels('common'),
    reset: metrics.eventsSent.labels('reset'),
    disconnect: metrics.eventsSent.labels('disconnect'),
    lock: metrics.eventsSent.labels('lock'),
  };
  const scope = deps.cursorScope ?? (() => '');
  let closed = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let beatMs = Infinity; // the interval of `heartbeat`: the fastest any open stream asked

  const drop = (res: ServerResponse): boolean => {
    if (!streams.delete(res)) return false;
    metrics.eventStreams.set(streams.size);
    if (streams.size === 0) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      beatMs = Infinity;
    }
    return true;
  };

  const endAll = (why: string) => {
    if (streams.size > 0) logger.info({ streams: streams.size }, `ending event streams: ${why}`);
    for (const res of [...streams.keys()]) {
      if (!drop(res)) continue;
      if (res.headersSent) res.end();
      else refuse(res, 503, `${why}; retry\n`); // a v2 start still reading the log
    }
  };

  /** false: the stream was cut (its reader is stuck). */
  const write = (res: ServerResponse, text: string): boolean => {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      logger.warn({ buffered: res.writableLength }, 'event stream reader is stuck; cutting it');
      drop(res);
      res.destroy();
      return false;
    }
    res.write(text);
    return true;
  };

  /**
   * One change to a v2 stream, with the cursor it leads to. A change it has (caught up from
   * the log) is skipped; one past a change it never got ends the stream: its reader comes
   * back with the last id and gets the rest from the log.
   */
  const sendV2 = (res: ServerResponse, s: Stream, o: Outgoing): boolean => {
    const revs = s.revs as number[];
    const { log, rev } = o.info;
    if (log !== undefined && rev !== undefined) {
      const had = revs[log] ?? 0;
      if (rev <= had) return true;
      if (rev > had + 1) {
        logger.warn({ log, had, rev }, 'event stream missed a change; ending it to resume');
        if (drop(res)) res.end();
        return false;
      }
      revs[log] = rev;
    }
    if (!write(res, `id: ${encodeCursor(scope(), revs)}\n${frame(o.name, o.data)}`)) return false;
    sent[o.name].inc();
    return true;
  };

  const broadcast = (o: Outgoing) => {
    if (streams.size === 0) return;
    const v1 = frame(o.name, o.data);
    let n = 0;
    for (const [res, s] of [...streams]) {
      if (s.v === 1) {
        if (write(res, v1)) n++;
      } else if (s.revs === null) s.pending.push(o);
      else sendV2(res, s, o);
    }
    sent[o.name].inc(n);
  };

  const ping = () => {
    for (const res of [...streams.keys()]) write(res, ': ping\n\n');
  };

  feed.on('change', (username, info) => {
    if (info.kind === 'user' && username !== null) {
      broadcast({ name: 'user', data: { username, revoke: info.revoke }, info });
    } else broadcast({ name: info.kind === 'common' ? 'common' : 'reset', data: {}, info });
  });
  feed.on('down', () => endAll('the change feed is down'));
  // Not changes of the log: sent to v2 streams with the position they are at.
  onDisconnectRequests(feed, (data) => broadcast({ name: 'disconnect', data, info: NO_POSITION }));
  deps.lockEvents?.onLock((data) => broadcast({ name: 'lock', data, info: NO_POSITION }));

  /** After `hello`: one `lock` per current lockout (lock-events.ts). */
  const sendLocks = (res: ServerResponse) => {
    if (!deps.lockEvents) return;
    const s = streams.get(res);
    const lock = (data: object) => {
      const o: Outgoing = { name: 'lock', data, info: NO_POSITION };
      if (s?.v === 2 && s.revs) sendV2(res, s, o);
      else if (write(res, frame('lock', data))) sent.lock.inc();
    };
    void sendCurrentLocks(
      deps.lockEvents,
      () => streams.has(res),
      lock,
      (err) => logger.warn({ err }, 'event stream: current lockouts not read'),
    );
  };

  /** The 200 and the heartbeat; returns the beat this stream gets (`?hb=`, events-heartbeat.ts). */
  const open = (req: IncomingMessage, res: ServerResponse): number => {
    // No socket timeout from our side: the heartbeat keeps the stream alive, and TCP
    // keep-alive finds a peer that vanished without a FIN.
    req.socket.setTimeout(0);
    req.socket.setKeepAlive(true, 10_000);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    sent.hello.inc();
    const hb = requestedHeartbeatMs(req.url, config.EVENTS_HEARTBEAT_MS);
    if (hb < beatMs) {
      clearInterval(heartbeat);
      beatMs = hb;
      heartbeat = setInterval(ping, hb).unref();
    }
    return hb;
  };

  /** v2: where the reader starts (its Last-Event-ID, or now), then what it missed. */
  const openV2 = (req: IncomingMessage, res: ServerResponse, s: Stream) => {
    const log = deps.changeLog;
    if (!log) {
      drop(res);
      refuse(res, 503, 'change log unavailable; retry\n');
      return;
    }
    const lastId = req.headers['last-event-id'];
    startV2(log, scope(), typeof lastId === 'string' ? lastId : undefined).then(
      (start: V2Start) => {
        if (!streams.has(res)) return; // gone (closed, feed down) while the log was read
        metrics.eventsResumes.labels(start.resumed ? 'resumed' : 'reset').inc();
        const hb = open(req, res);
        s.revs = [...start.from];
        const hello = { v: 2, heartbeatMs: hb, resumed: start.resumed };
        if (!write(res, `id: ${encodeCursor(scope(), s.revs)}\n${frame('hello', hello)}`)) return;
        for (const o of start.missed) if (!sendV2(res, s, o)) return;
        const pending = s.pending;
        s.pending = [];
        for (const o of pending) if (!sendV2(res, s, o)) return;
        sendLocks(res);
        logger.debug({ streams: streams.size, resumed: start.resumed }, 'event stream opened');
      },
      (err: unknown) => {
        if (!drop(res)) return;
        logger.warn({ err: (err as Error).message }, 'event stream: the change log cannot be read');
        refuse(res, 503, 'store unavailable; retry\n');
      },
    );
  };

  return {
    get size() {
      return streams.size;
    },
    handle(req, res) {
      req.resume(); // a GET has no body; anything sent is read and ignored
      // The credential first: a request without it is answered at once and never counted
      // against EVENTS_MAX_STREAMS, so no local process can take a broker's slot.
      if (authorized && !authorized(req.headers.authorization)) {
        refuse(res, 401, 'a broker credential is required (Authorization: Bearer)\n', {
          'WWW-Authenticate': 'Bearer realm="mqtt-authd-events"',
        });
        return;
      }
      if (req.method !== 'GET') {
        refuse(res, 405, 'method must be GET\n', { Allow: 'GET' });
        return;
      }
      if (closed) {
        refuse(res, 503, 'shutting down; retry\n', { Connection: 'close' });
        return;
      }
      if (!feed.isUp) {
        refuse(res, 503, 'change feed down; retry\n');
        return;
      }
      if (streams.size >= config.EVENTS_MAX_STREAMS) {
        refuse(res, 503, 'too many event streams; retry\n');
        return;
      }
      const s: Stream = { v: wantsV2(req.url) ? 2 : 1, revs: null, pending: [] };
      streams.set(res, s);
      metrics.eventStreams.set(streams.size);
      res.on('close', () => drop(res));
      if (s.v === 2) {
        openV2(req, res, s);
        return;
      }
      const hb = open(req, res);
      write(res, frame('hello', { v: EVENTS_VERSION, heartbeatMs: hb }));
      sendLocks(res);
      logger.debug({ streams: streams.size }, 'event stream opened');
    },
    endAll,
    close() {
      closed = true;
      endAll('shutting down');
    },
  };
}
