// The Express application: management API, health and metrics. Broker checks do not pass
// through here (see checks/check-handler.ts).
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { AppContext } from './context';
import { createConsoleRouter } from './api/console-router';
import { refuseCrossSite } from './api/cross-site';
import { errorMiddleware, notFoundHandler } from './api/error-middleware';
import { createHealthRouter, type ReadinessSource } from './ops/health-router';

export interface AppParts {
  readiness?: ReadinessSource;
  /** The management API, mounted at /api/v1. */
  api?: Router;
  /** false: no operator console at /admin. */
  console?: boolean;
}

export function createApp(ctx: AppContext, parts: AppParts = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.TRUST_PROXY);
  app.use(helmet());
  app.use(refuseCrossSite(ctx.config.TRUST_PROXY));
  app.use(createHealthRouter(ctx, parts.readiness));
  if (parts.api) app.use('/api/v1', parts.api);
  if (parts.console !== false) app.use('/admin', createConsoleRouter());
  app.use(notFoundHandler);
  app.use(errorMiddleware(ctx.logger.child({ name: 'authd:http' })));
  return app;
}
