// GET /mqtt/events: the change feed as server-sent events, for the Mosquitto plugin (protocol in
// docs/events.md). A stream exists only while the feed is up: when the subscription drops, every
// stream ends at once, so a plugin never trusts its cache while changes could go unannounced.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../ops/metrics';
import type { ChangeFeed } from '../store/change-feed';
import { requestedHeartbeatMs } from './events-heartbeat';
import { onDisconnectRequests } from './disconnect-event';
import { sendCurrentLocks, type LockEvents } from './lock-events';

export const EVENTS_PATH = '/mqtt/events';
export const EVENTS_VERSION = 1;
/** A reader that lets this much pile up is stuck: its stream is cut (it will reconnect). */
const MAX_BUFFERED_BYTES = 256 * 1024;

type EventName = 'hello' | 'user' | 'common' | 'reset' | 'disconnect' | 'lock';

/** One event: `event: <name>`, one line of JSON (JSON.stringify escapes every line break). */
export const frame = (event: EventName, data: object): string =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export interface EventStreamsDeps {
  config: Pick<Config, 'EVENTS_HEARTBEAT_MS' | 'EVENTS_MAX_STREAMS' | 'BROKER_TOKEN_SHA256'>;
  feed: Pick<ChangeFeed, 'isUp' | 'on'>;
  metrics: Metrics;
  logger: Logger;
  /** `lock` events: lockouts starting and cleared, and the current ones after `hello`. */
  lockEvents?: LockEvents;
}

export interface EventStreams {
  /** Answers a request to EVENTS_PATH (any method). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Ends every stream and refuses new ones (shutdown: server.close() would wait for them). */
  close(): void;
  readonly size: number;
}

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
  const streams = new Set<ServerResponse>();
  const sent = {
    hello: metrics.eventsSent.labels('hello'),
    user: metrics.eventsSent.labels('user'),
    common: metrics.eventsSent.labels('common'),
    reset: metrics.eventsSent.labels('reset'),
    disconnect: metrics.eventsSent.labels('disconnect'),
    lock: metrics.eventsSent.labels('lock'),
  };
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
    for (const res of [...streams]) if (drop(res)) res.end();
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

  const broadcast = (event: EventName, data: object) => {
    if (streams.size === 0) return;
    const text = frame(event, data);
    let n = 0;
    for (const res of [...streams]) if (write(res, text)) n++;
    sent[event].inc(n);
  };

  const ping = () => {
    for (const res of [...streams]) write(res, ': ping\n\n');
  };

  feed.on('change', (username, info) => {
    if (info.kind === 'user' && username !== null) {
      broadcast('user', { username, revoke: info.revoke });
    } else broadcast(info.kind === 'common' ? 'common' : 'reset', {});
  });
  feed.on('down', () => endAll('the change feed is down'));
  onDisconnectRequests(feed, (data) => broadcast('disconnect', data));
  deps.lockEvents?.onLock((data) => broadcast('lock', data));

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
      // No socket timeout from our side: the heartbeat keeps the stream alive, and TCP
      // keep-alive finds a peer that vanished without a FIN.
      req.socket.setTimeout(0);
      req.socket.setKeepAlive(true, 10_000);
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        'X-Accel-Buffering': 'no',
      });
      streams.add(res);
      metrics.eventStreams.set(streams.size);
      res.on('close', () => drop(res));
      const hb = requestedHeartbeatMs(req.url, config.EVENTS_HEARTBEAT_MS);
      write(res, frame('hello', { v: EVENTS_VERSION, heartbeatMs: hb }));
      sent.hello.inc();
      if (deps.lockEvents) {
        const lock = (d: object) => {
          if (write(res, frame('lock', d))) sent.lock.inc();
        };
        void sendCurrentLocks(
          deps.lockEvents,
          () => streams.has(res),
          lock,
          (err) => logger.warn({ err }, 'event stream: current lockouts not read'),
        );
      }
      if (hb < beatMs) {
        clearInterval(heartbeat);
        beatMs = hb;
        heartbeat = setInterval(ping, hb).unref();
      }
      logger.debug({ streams: streams.size }, 'event stream opened');
    },
    close() {
      closed = true;
      endAll('shutting down');
    },
  };
}
