import { Router } from 'express';
import type { LockoutList } from '../checks/lockout-list';
import type { LoginThrottle } from '../checks/login-throttle';
import type { AuditLog } from '../ops/audit';
import { errorBody } from '../contract/errors';
import {
  clearLockoutQuery,
  lockState,
  lockoutKind,
  lockoutList,
  lockoutsQuery,
  type LockKind,
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
  const clear = async (actor: string, k: LockKind, name: string) => {
    const before = await throttle.state(k, name);
    await throttle.clear(k, name);
    // Clearing again is harmless: unaudited, the call answers 503 and the retry audits it.
    await audit.record(
      { actor, action: 'clear-lockout', target: `${k}:${name}`, before, after: null },
      { required: true },
    );
  };
  route(
    r,
    {
      method: 'delete',
      path: '/lockouts',
      summary:
        'Clear the failed-login count and lockout of ?username= or ?clientid= (any name, even one a path cannot carry such as "..")',
      query: clearLockoutQuery,
      responses: {
        204: { description: 'Cleared' },
        400: { description: 'Neither or both of username and clientid', schema: errorBody },
      },
    },
    async (req, { query }) => {
      const k: LockKind = query.username !== undefined ? 'username' : 'clientid';
      await clear(actorOf(req), k, (query.username ?? query.clientid) as string);
      return { status: 204 };
    },
  );
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
      await clear(actorOf(req), parseKind(req.params.kind), String(req.params.name));
      return { status: 204 };
    },
  );
  return r;
}
