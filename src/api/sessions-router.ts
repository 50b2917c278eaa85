// GET /sessions, GET /presence and POST /devices/{id}/disconnect (issue 27; docs/presence.md).
import { Router } from 'express';
import type { Change, DeviceService } from '../devices/device-service';
import { disconnectDevice, listSessions } from '../devices/sessions';
import type { AuditLog } from '../ops/audit';
import type { PresenceStore } from '../store/presence-store';
import { errorBody } from '../contract/errors';
import {
  disconnectAnswer,
  presenceAnswer,
  sessionList,
  sessionsQuery,
  type DisconnectAnswer,
  type PresenceAnswer,
  type SessionList,
} from '../contract/sessions';
import { actorOf, route } from './routes';

export function createSessionsRouter(
  presence: PresenceStore,
  devices: DeviceService,
  audit: AuditLog,
): Router {
  const r = Router();
  route(
    r,
    {
      method: 'get',
      path: '/sessions',
      summary:
        'Sessions the brokers report, by user name then client id then broker; page with ?cursor= (complete while sessions come and go)',
      query: sessionsQuery,
      responses: {
        200: { description: 'A page', schema: sessionList },
        400: { description: 'Bad query or cursor', schema: errorBody },
      },
    },
    async (_req, { query }) => ({
      status: 200,
      body: (await listSessions(presence, query)) satisfies SessionList,
    }),
  );
  route(
    r,
    {
      method: 'get',
      path: '/presence',
      summary:
        "Each live broker's sessions, connects, disconnects and plugin decision counters (the console's Live page)",
      responses: { 200: { description: 'Brokers', schema: presenceAnswer } },
    },
    async () => {
      const now = Date.now();
      const states = await presence.states(now);
      const body: PresenceAnswer = {
        at: new Date(now).toISOString(),
        brokers: states.map((s) => ({ ...s, seenAt: new Date(s.seenAt).toISOString() })),
      };
      return { status: 200, body };
    },
  );
  route(
    r,
    {
      method: 'post',
      path: '/devices/:id/disconnect',
      summary:
        'End every session of the device on every broker, without revoking it (it may connect again)',
      responses: {
        202: { description: 'Asked', schema: disconnectAnswer },
        404: { description: 'No such device', schema: errorBody },
      },
    },
    async (req) => {
      const record = (change: Change) => audit.record(change, { required: true });
      const id = String(req.params.id);
      const body = await disconnectDevice({ presence, devices }, record, actorOf(req), id);
      return { status: 202, body: body satisfies DisconnectAnswer };
    },
  );
  return r;
}
