// The service: one node:http server; broker checks on the fast path, the rest via Express.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppParts } from './app';
import { CHECK_PATH_PREFIX, refuseCrossSite } from './checks/check-guard';
import { createCheckHandler } from './checks/check-handler';
import { createEventStreams } from './checks/events-stream';
import { createLockEvents } from './checks/lock-events';
import { createRecordsHandler } from './checks/records-handler';
import { createSessionsHandler } from './checks/sessions-handler';
import type { AppContext } from './context';

export interface Service {
  ctx: AppContext;
  server: http.Server;
  start(): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight requests finish (bounded), runs onStop hooks, quits Redis. */
  stop(): Promise<void>;
}

export interface ServiceParts extends AppParts {
  /** Run at stop() after HTTP has drained, before Redis closes (e.g. flush the export). */
  onStop?: (() => Promise<void>)[];
}

export function createService(ctx: AppContext, parts: ServiceParts = {}): Service {
  const app = createApp(ctx, parts);
  const events = createEventStreams({
    config: ctx.config,
    feed: ctx.feed,
    metrics: ctx.metrics,
    logger: ctx.logger.child({ name: 'authd:events' }),
    lockEvents: createLockEvents({ feed: ctx.lockFeed, lockouts: ctx.lockouts }),
  });
  const handleCheck = createCheckHandler({
    config: ctx.config,
    service: ctx.checks,
    metrics: ctx.metrics,
    logger: ctx.logger.child({ name: 'authd:checks' }),
    events,
  });
  const handleRecords = createRecordsHandler({
    config: ctx.config,
    store: ctx.store,
    lockouts: ctx.lockoutStore,
    logger: ctx.logger.child({ name: 'authd:records' }),
  });
  const handleSessions = createSessionsHandler({
    config: ctx.config,
    presence: ctx.presence,
    metrics: ctx.metrics,
    logger: ctx.logger.child({ name: 'authd:presence' }),
  });
  const server = http.createServer(
    {
      // Slow clients: headers within CHECK_HEADERS_TIMEOUT_MS (the plugin and any API client
      // send them at once), a whole request within 30 s; a check's body has
      // CHECK_BODY_TIMEOUT_MS from its headers (check-handler.ts).
      headersTimeout: ctx.config.CHECK_HEADERS_TIMEOUT_MS,
      requestTimeout: 30_000,
      // Node checks both only every connectionsCheckingInterval (default 30 s): without this a
      // slow client would be cut after up to 40 s, not 10 s.
      connectionsCheckingInterval: 1_000,
      // Longer than Go's idle timeout (90 s), so the plugin, not us, closes idle connections
      // and never sends a request on a socket we are closing.
      keepAliveTimeout: 120_000,
    },
    (req, res) => {
      // Every path of the check listener, whatever handles it, goes through the same door.
      if (req.url?.startsWith(CHECK_PATH_PREFIX) && refuseCrossSite(req, res)) return;
      if (!handleCheck(req, res) && !handleRecords(req, res) && !handleSessions(req, res)) {
        app(req, res);
      }
    },
  );
  let stopping: Promise<void> | null = null;

  return {
    ctx,
    server,
    start() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(ctx.config.PORT, ctx.config.HOST, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        events.close(); // open streams never finish by themselves
        // close() only closes the connections idle right now; keep-alive connections whose
        // in-flight request finishes later would otherwise linger until the client drops them.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        const timer = setTimeout(
          () => server.closeAllConnections(),
          ctx.config.SHUTDOWN_TIMEOUT_MS,
        );
        await closed;
        clearInterval(idle);
        clearTimeout(timer);
        for (const hook of parts.onStop ?? []) await hook();
        await ctx.close();
      })();
      return stopping;
    },
  };
}
