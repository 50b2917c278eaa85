// /api/v1: the OpenAPI document (public), then JSON parsing, admin auth, one log line and
// one metric per call, and the routers.
import { isUtf8 } from 'node:buffer';
import express, { Router } from 'express';
import type { AppContext } from '../context';
import type { Exporter } from '../export/exporter';
import type { AuditLog } from '../ops/audit';
import { createAdminRouter } from './admin-router';
import { createDecideRouter } from './decide-router';
import { requireAdmin } from './auth';
import { deadline } from './deadline';
import { createDevicesRouter } from './devices-router';
import { idempotency } from './idempotency';
import { createSessionsRouter } from './sessions-router';
import { buildOpenApi } from './openapi';
import { ROUTES } from './routes';

export interface ApiDeps {
  exporter: Exporter;
  audit: AuditLog;
  extra?: Router[];
}

/** Bytes that are not UTF-8 would be decoded as U+FFFD and stored as such: a 400 instead. */
function refuseInvalidUtf8(_req: unknown, _res: unknown, buf: Buffer): void {
  if (!isUtf8(buf)) {
    throw Object.assign(new Error('body is not valid UTF-8'), { status: 400, type: 'encoding' });
  }
}

export function createApiRouter(ctx: AppContext, deps: ApiDeps): Router {
  const api = Router();
  const log = ctx.logger.child({ name: 'authd:api' });
  const routers = [
    createDevicesRouter(ctx.devices, (names) => ctx.presence.online(names, Date.now())),
    createSessionsRouter(ctx.presence, ctx.devices, deps.audit),
    createAdminRouter(ctx.devices, deps.exporter, deps.audit),
    createDecideRouter(ctx.store, ctx.throttle, ctx.metrics),
    ...(deps.extra ?? []),
  ];
  let openapi: unknown = null;
  api.get('/openapi.json', (_req, res) => {
    openapi ??= buildOpenApi(ROUTES, process.env.npm_package_version ?? '0.1.0');
    res.json(openapi);
  });
  api.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const routePath = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      ctx.metrics.managementCalls.labels(routePath, req.method, String(res.statusCode)).inc();
      log.info(
        {
          method: req.method,
          route: routePath,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          actor: (res.locals.actor as string | undefined) ?? null,
        },
        'management call',
      );
    });
    next();
  });
  api.use(deadline(ctx.config.MANAGEMENT_TIMEOUT_MS));
  // The token first: no body is read for anyone without one.
  api.use(requireAdmin(ctx.adminTokens));
  api.use(express.json({ limit: '256kb', strict: true, verify: refuseInvalidUtf8 }));
  // After the token and the body: a key is scoped to its admin token and its request.
  api.use(
    idempotency({
      records: ctx.idempotency,
      store: ctx.store,
      durability: {
        minReplicasAck: ctx.config.REDIS_MIN_REPLICAS_ACK,
        waitTimeoutMs: ctx.config.REDIS_WAIT_TIMEOUT_MS,
      },
      logger: log,
    }),
  );
  for (const r of routers) api.use(r);
  return api;
}
