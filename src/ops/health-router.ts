import { Router } from 'express';
import type { AppContext } from '../context';

export interface ReadinessSource {
  /** Export health, when an exporter runs in this process. */
  exportHealthy?: () => boolean;
}

/** /healthz: the process answers. /readyz: Redis answers PING and the export is healthy. */
export function createHealthRouter(ctx: AppContext, src: ReadinessSource = {}): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  r.get('/readyz', async (_req, res) => {
    const redis = await ctx.redis.ping().then(
      (r) => r === 'PONG',
      () => false,
    );
    const exportOk = src.exportHealthy ? src.exportHealthy() : true;
    const ready = redis && exportOk && ctx.feed.isUp;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not ready',
      checks: {
        redis: redis ? 'ok' : 'unreachable',
        events: ctx.feed.isUp ? 'ok' : 'down',
        export: exportOk ? 'ok' : 'failing',
      },
    });
  });
  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });
  return r;
}
