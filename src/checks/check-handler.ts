// The broker-check fast path, on node:http directly. go-auth calls us synchronously for every
// CONNECT, publish and delivery, so this path carries no middleware it does not need: no
// Express, no helmet, no JSON body parser. Management routes go through Express as usual.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_MODES, type Config, type ResponseMode } from '../config';
import { OverloadedError, StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../ops/metrics';
import { BodyDeadlines } from './body-deadlines';
import { parseCheckBody, type CheckKind } from './check-request';
import type { CheckService, Decision } from './check-service';
import { EVENTS_PATH, type EventStreams } from './events-stream';
import { encodeAnswer } from './respond';

const KINDS: Record<string, CheckKind> = {
  '/mqtt/user': 'user',
  '/mqtt/superuser': 'superuser',
  '/mqtt/acl': 'acl',
};

export interface CheckHandlerDeps {
  config: Pick<
    Config,
    | 'CHECK_RESPONSE_MODE'
    | 'CHECK_MAX_INFLIGHT'
    | 'CHECK_BODY_LIMIT_BYTES'
    | 'CHECK_BODY_TIMEOUT_MS'
  >;
  service: CheckService;
  metrics: Metrics;
  logger: Logger;
  /** GET /mqtt/events (the plugin's change stream) shares this listener and its protection. */
  events?: Pick<EventStreams, 'handle'>;
}

function responseMode(query: string, fallback: ResponseMode): ResponseMode | null {
  if (!query) return fallback;
  const r = new URLSearchParams(query).get('response');
  if (r === null) return fallback;
  return (RESPONSE_MODES as readonly string[]).includes(r) ? (r as ResponseMode) : null;
}

/** Returns a handler, or null for URLs that are not checks (Express takes those). */
export function createCheckHandler(deps: CheckHandlerDeps) {
  const { config, service, metrics, logger, events } = deps;
  let inflight = 0;
  const bodies = new BodyDeadlines(config.CHECK_BODY_TIMEOUT_MS);
  const debug = logger.isLevelEnabled('debug'); // no log object built per denial otherwise
  // Metric children bound once: labels() per request is a hash lookup on the hot path.
  const counted = new Map<string, { inc(): void }>();
  const timed = new Map<string, { observe(v: number): void }>();
  for (const kind of Object.values(KINDS)) {
    timed.set(kind, metrics.checkSeconds.labels(kind));
    for (const result of ['allow', 'deny', 'error']) {
      counted.set(`${kind}:${result}`, metrics.checkTally(kind, result));
    }
  }

  return function handleCheck(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const kind = KINDS[path];
    if (!kind) {
      // A stream, not a check: outside CHECK_MAX_INFLIGHT and the check timeouts.
      if (path !== EVENTS_PATH || !events) return false;
      events.handle(req, res);
      return true;
    }
    const started = process.hrtime.bigint();
    const mode = responseMode(q === -1 ? '' : url.slice(q + 1), config.CHECK_RESPONSE_MODE);

    const send = (status: number, reason: string, result: 'allow' | 'deny' | 'error') => {
      const a = encodeAnswer(mode ?? config.CHECK_RESPONSE_MODE, status, reason);
      res.writeHead(a.status, {
        'Content-Type': a.contentType,
        'Content-Length': Buffer.byteLength(a.body),
        'Cache-Control': 'no-store',
      });
      res.end(a.body);
      counted.get(`${kind}:${result}`)?.inc();
      timed.get(kind)?.observe(Number(process.hrtime.bigint() - started) / 1e9);
    };

    if (mode === null) {
      req.resume();
      send(400, 'response must be status, text or json', 'deny');
      return true;
    }
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'PUT') {
      req.resume();
      res.setHeader('Allow', 'GET, POST, PUT');
      send(405, 'method must be POST, GET or PUT', 'deny');
      return true;
    }
    // A check counts against CHECK_MAX_INFLIGHT only once its body is complete: connections
    // that trickle a body hold a socket and a timer, never a slot good checks need. The plugin
    // sends its request at once, so a body not complete within CHECK_BODY_TIMEOUT_MS is cut.
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let holdsSlot = false;
    const finish = (status: number, reason: string, result: 'allow' | 'deny' | 'error') => {
      if (done) return;
      done = true;
      bodies.done(waiting);
      if (holdsSlot) inflight--;
      send(status, reason, result);
    };
    const waiting = bodies.wait(() => {
      if (done) return;
      res.setHeader('Connection', 'close');
      finish(408, 'request body not complete in time', 'deny');
      req.socket.destroySoon();
    });
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > config.CHECK_BODY_LIMIT_BYTES) {
        finish(413, 'request body too large', 'deny');
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => finish(400, 'request aborted', 'deny'));
    req.on('end', () => {
      if (done) return;
      bodies.done(waiting); // the body is here; the answer may take longer (a slow-lane hash)
      if (inflight >= config.CHECK_MAX_INFLIGHT) {
        finish(503, 'overloaded: too many checks in flight', 'error');
        return;
      }
      inflight++;
      holdsSlot = true;
      const body =
        chunks.length === 1
          ? (chunks[0] as Buffer).toString('utf8')
          : Buffer.concat(chunks).toString('utf8');
      const parsed = parseCheckBody(kind, body, req.headers['content-type'] ?? '');
      if (!parsed.ok) {
        finish(400, parsed.error, 'deny');
        return;
      }
      // Only a login can wait long (the slow lane); it learns when the asker has gone.
      let decided: Promise<Decision>;
      if (kind === 'user') {
        // Made only when a password is hashed: a warm login (most of them) skips the
        // AbortController and its signal, ~2 µs and an EventTarget per request.
        const asker = (): AbortSignal => {
          const gone = new AbortController();
          if (res.destroyed) gone.abort();
          else
            res.once('close', () => {
              if (!done) gone.abort();
            });
          return gone.signal;
        };
        decided = service.user(parsed.fields, asker);
      } else {
        decided = service[kind](parsed.fields);
      }
      decided.then(
        (d: Decision) => {
          if (d.allow) finish(200, '', 'allow');
          else {
            if (debug)
              logger.debug(
                { kind, username: parsed.fields.username, reason: d.reason },
                'check denied',
              );
            finish(403, d.reason, 'deny');
          }
        },
        (err: unknown) => {
          if (err instanceof StoreUnavailableError) {
            metrics.storeErrors.inc();
            finish(503, 'credential store unavailable', 'error');
          } else if (err instanceof OverloadedError) {
            finish(503, `overloaded: ${err.message}`, 'error');
          } else {
            logger.error({ err, kind }, 'check failed unexpectedly');
            finish(500, 'internal error', 'error');
          }
        },
      );
    });
    return true;
  };
}
