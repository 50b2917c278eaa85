import { Router } from 'express';
import type { AppContext } from '../context';

export interface ReadinessSource {
  /** Export health, when an exporter runs in this process. */
  exportHealthy?: () => boolean;
  /** Why the fallback broker is in trouble (it quit after our SIGHUP), or null. */
  brokerProblem?: () => Promise<string | null>;
}

/**
 * /healthz: the process answers. /readyz: a Redis primary is known and answers, the change feed
 * is subscribed, the export is healthy, the broker we reload did not quit on our last
 * SIGHUP (one not started yet is fine), no bucket's writes keep failing, and the store did
 * not lose its data (store-marker.ts) unacknowledged; it names the
 * topology, the primaries, and the buckets whose writes fail.
 */
export function createHealthRouter(ctx: AppContext, src: ReadinessSource = {}): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  r.get('/readyz', async (_req, res) => {
    // Ready only while a primary is known and answers: a replica alone cannot take writes, and
    // reads from it may be stale.
    const status = await ctx.health.primaries();
    const redis = status.primaries.length > 0;
    const exportOk = src.exportHealthy ? src.exportHealthy() : true;
    // Writes to a slot that keep failing (each tried once more here): named, not averaged away.
    const failing = (
      await Promise.all([ctx.store, ctx.bulkStore].map((s) => s.failingWrites().catch(() => [])))
    ).flat();
    const slots = [...new Set(failing.map((f) => f.slot))];
    const broker = src.brokerProblem ? await src.brokerProblem() : null;
    const lost = ctx.marker.problem;
    const ready =
      redis && exportOk && ctx.feed.isUp && broker === null && slots.length === 0 && !lost;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not ready',
      redis: { topology: status.topology, primaries: status.primaries },
      checks: {
        redis: redis ? 'ok' : 'no primary',
        events: ctx.feed.isUp ? 'ok' : 'down',
        export: exportOk ? 'ok' : 'failing',
        broker: broker ?? 'ok',
        store: lost ?? 'ok',
        writes:
          slots.length === 0
            ? 'ok'
            : `failing for bucket ${slots.join(', ')}: ${failing[0]?.error ?? ''}`,
      },
    });
  });
  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });
  return r;
}
