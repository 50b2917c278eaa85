// POST /mqtt/sessions: the plugins report who connects and leaves, and beat their heart
// (docs/broker-protocol.md, Sessions; docs/presence.md). On the check listener, behind its
// browser door (check-guard.ts) and the broker credential, before any byte of body is read.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import { StoreUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../ops/metrics';
import type { PresenceStore } from '../store/presence-store';
import { brokerAuth } from './events-stream';
import { parseSessionsBody, SESSIONS_BODY_LIMIT_BYTES } from './sessions-body';
import { sendJson } from './json-reply';

export const SESSIONS_PATH = '/mqtt/sessions';

export interface SessionsHandlerDeps {
  config: Pick<Config, 'BROKER_TOKEN_SHA256' | 'CHECK_BODY_TIMEOUT_MS'>;
  presence: Pick<PresenceStore, 'report'>;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

/** Returns a handler that answers SESSIONS_PATH and returns false for any other path. */
export function createSessionsHandler(deps: SessionsHandlerDeps) {
  const { config, presence, metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  const authorized = brokerAuth(config.BROKER_TOKEN_SHA256);
  const counted = (outcome: string) => metrics.sessionReports.labels(outcome).inc();

  return function handleSessions(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== SESSIONS_PATH) return false;
    const refuse = (status: number, error: string, headers = {}) => {
      counted('refused');
      sendJson(res, status, { v: 2, error }, headers);
    };
    if (authorized && !authorized(req.headers.authorization)) {
      req.resume();
      refuse(401, 'a broker credential is required (Authorization: Bearer)', {
        'WWW-Authenticate': 'Bearer realm="mqtt-authd-sessions"',
      });
      return true;
    }
    if (req.method !== 'POST') {
      req.resume();
      refuse(405, 'method must be POST', { Allow: 'POST' });
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      finish(() => refuse(408, 'request body not complete in time', { Connection: 'close' }));
      req.socket.destroySoon();
    }, config.CHECK_BODY_TIMEOUT_MS);
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > SESSIONS_BODY_LIMIT_BYTES) {
        finish(() =>
          refuse(413, 'request body too large (1 MiB at most)', { Connection: 'close' }),
        );
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => finish(() => refuse(400, 'request aborted')));
    req.on('end', () => {
      if (done) return;
      clearTimeout(timer);
      const parsed = parseSessionsBody(Buffer.concat(chunks).toString('utf8'));
      if (!parsed.ok) {
        finish(() => refuse(400, parsed.error));
        return;
      }
      presence.report(parsed.batch, now()).then(
        (outcome) =>
          finish(() => {
            counted(outcome);
            sendJson(res, 200, outcome === 'needFull' ? { v: 2, needFull: true } : { v: 2 });
          }),
        (err: unknown) =>
          finish(() => {
            if (err instanceof StoreUnavailableError) {
              metrics.storeErrors.inc();
              refuse(503, 'store unavailable; retry');
            } else {
              logger.error({ err }, 'session report failed unexpectedly');
              refuse(500, 'internal error');
            }
          }),
      );
    });
    return true;
  };
}
