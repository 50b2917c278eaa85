import { Router } from 'express';
import type { LockoutList } from '../checks/lockout-list';
import type { LoginThrottle } from '../checks/login-throttle';
import type { AuditLog } from '../ops/audit';
import { errorBody } from '../contract/errors';
import {
  lockState,
  lockoutKind,
  lockoutList,
  lockoutsQuery,
  type LockoutPage,
} from '../contract/lockouts';
import { actorOf, route } from './routes';

const parseKind = (v: unknown) => lockoutKind.parse(v);

export function createLockoutsRouter(
  throttle: LoginThrottle,
  lockouts: LockoutList,
  audit: AuditLog,
): Router {
  const r = Router();
  route(
    r,
    {
      method: 'get',
      path: '/lockouts',
      summary:
        'Current lockouts (user names and client ids), most time left first; page with ?cursor=',
      query: lockoutsQuery,
      responses: {
        200: { description: 'A page', schema: lockoutList },
        400: { description: 'Bad query', schema: errorBody },
      },
    },
    async (_req, { query }) => ({
      status: 200,
      body: (await lockouts.list(query.limit, query.cursor)) satisfies LockoutPage,
    }),
  );
  route(
    r,
    {
      method: 'get',
      path: '/lockouts/:kind/:name',
      summary:
        'Failed-login count and lockout of a user name or client id (kind: username | clientid)',
      responses: {
        200: { description: 'State', schema: lockState },
        400: { description: 'Bad kind', schema: errorBody },
      },
    },
    async (req) => ({
      status: 200,
      body: await throttle.state(parseKind(req.params.kind), String(req.params.name)),
    }),
  );
  route(
    r,
    {
      method: 'delete',
      path: '/lockouts/:kind/:name',
      summary: 'Clear the failed-login count and lockout of a user name or client id',
      responses: {
        204: { description: 'Cleared' },
        400: { description: 'Bad kind', schema: errorBody },
      },
    },
    async (req) => {
      const k = parseKind(req.params.kind);
      const name = String(req.params.name);
      const before = await throttle.state(k, name);
      await throttle.clear(k, name);
      // Clearing again is harmless: unaudited, the call answers 503 and the retry audits it.
      await audit.record(
        {
          actor: actorOf(req),
          action: 'clear-lockout',
          target: `${k}:${name}`,
          before,
          after: null,
        },
        { required: true },
      );
      return { status: 204 };
    },
  );
  return r;
}
