// Composes the whole service from config: what `mqtt-authd serve` runs, and what end-to-end
// tests start in-process.
import { createApiRouter } from './api/api-router';
import { createLockoutsRouter } from './api/lockouts-router';
import type { Config } from './config';
import { createContext, type AppContext, type ContextOverrides } from './context';
import { Exporter } from './export/exporter';
import { createReloader } from './export/reload';
import { AuditLog } from './ops/audit';
import { createService, type Service } from './server';

const OLD_LAYOUT =
  'the store holds devices in the layout of an earlier version: run ' +
  '`mqtt-authd migrate-store` once (with the same REDIS_* settings), then start again';

export interface FullService extends Service {
  exporter: Exporter;
  audit: AuditLog;
}

export function createExporter(ctx: AppContext): Exporter {
  return new Exporter({
    config: ctx.config,
    store: ctx.bulkStore,
    reloader: createReloader(ctx.config.MOSQUITTO_RELOAD),
    logger: ctx.logger.child({ name: 'authd:export' }),
    metrics: ctx.metrics,
  });
}

/** The audit trail, told of every change made through `ctx.devices` (API, CLI, imports). */
export function attachAudit(ctx: AppContext): AuditLog {
  const audit = new AuditLog(ctx.auditStore, ctx.logger.child({ name: 'authd:audit' }));
  ctx.devices.onChange((change) => audit.record(change));
  return audit;
}

export async function buildService(
  config: Config,
  overrides: ContextOverrides = {},
): Promise<FullService> {
  const ctx = createContext(config, overrides);
  const exporter = createExporter(ctx);
  const audit = attachAudit(ctx);
  ctx.throttle.on('lockout', (kind, name) => {
    void audit.record({
      action: 'lockout',
      target: `${kind}:${name.slice(0, 256)}`,
      before: null,
      after: { kind },
    });
  });
  // Every change from any replica arrives here; so does a resync after the feed reconnects.
  ctx.feed.on('change', () => exporter.changed());
  const service = createService(ctx, {
    api: createApiRouter(ctx, {
      exporter,
      audit,
      extra: [createLockoutsRouter(ctx.throttle, ctx.lockouts, audit)],
    }),
    readiness: {
      exportHealthy: () => exporter.healthy,
      brokerProblem: () => exporter.brokerProblem(),
    },
    // Upgrades at login first: the last export then has their `$7$` hashes.
    onStop: [() => ctx.checks.settled(), () => exporter.flush()],
  });
  const start = service.start;
  return {
    ...service,
    exporter,
    audit,
    async start() {
      // Give Redis a moment so the first requests are not 503s; listen regardless (the
      // client logs one line and keeps retrying; checks answer 503 until it is back). No
      // service answers from half a layout: an earlier one left in Redis stops the start.
      const legacy = await ctx.health.ready(3000).then(
        () => ctx.health.legacyLayout(),
        () => false, // unknown now; checks answer 503 until Redis is back
      );
      if (legacy) {
        await ctx.close();
        throw new Error(OLD_LAYOUT);
      }
      const addr = await start();
      void exporter.run(true); // the export also runs at startup; failures retry by themselves
      return addr;
    },
  };
}
