import { Router, type Request } from 'express';
import type { DeviceService } from '../devices/device-service';
import { notFound, WriteUnconfirmedError } from '../errors';
import { keepApplied, type Answer } from './idempotency';
import {
  aclBody,
  createDeviceBody,
  device,
  deviceList,
  deviceWithPassword,
  listedDevice,
  listQuery,
  patchDeviceBody,
  rotateBody,
  type DeviceList,
  type DeviceWithPassword,
  type ListedDevice,
} from '../contract/devices';
import { errorBody } from '../contract/errors';
import { actorOf, route } from './routes';

const E400 = { description: 'Invalid request; the message names the field', schema: errorBody };
const E404 = { description: 'No such device', schema: errorBody };

/**
 * The answer `p` makes. When the write is applied but unconfirmed (or its answer was lost), the
 * answer it would have made is kept for a retry with the same Idempotency-Key.
 */
async function answer<T>(
  req: Request,
  p: Promise<T>,
  shape: (v: T) => Answer,
  deleted?: string,
): Promise<Answer> {
  try {
    return shape(await p);
  } catch (err) {
    if (err instanceof WriteUnconfirmedError && err.applied !== undefined && req.res) {
      const a = shape(err.applied as T);
      const body = a.body as { id?: string; updatedAt?: string } | undefined;
      const probe = deleted
        ? { id: deleted, updatedAt: null }
        : { id: body?.id ?? '', updatedAt: body?.updatedAt ?? '' };
      keepApplied(req.res, a, probe);
    }
    throw err;
  }
}

/** Which of these user names a broker reports a session of (presence; issue 27). */
export type OnlineOf = (usernames: string[]) => Promise<Set<string>>;

export function createDevicesRouter(
  devices: DeviceService,
  onlineOf: OnlineOf = async () => new Set(),
): Router {
  const r = Router();
  const id = (p: unknown) => String(p);

  route(
    r,
    {
      method: 'post',
      path: '/devices',
      summary: 'Register a device; a generated password is returned this once',
      body: createDeviceBody,
      responses: {
        201: { description: 'Created', schema: deviceWithPassword },
        400: E400,
        409: { description: 'The id exists', schema: errorBody },
      },
    },
    (req, { body }) =>
      answer(req, devices.as(actorOf(req)).create(body), ({ device: d, password }) => ({
        status: 201,
        body: { ...d, password } satisfies DeviceWithPassword,
      })),
  );

  route(
    r,
    {
      method: 'get',
      path: '/devices',
      summary: 'List devices in id order, cursor-paginated',
      query: listQuery,
      responses: { 200: { description: 'A page', schema: deviceList }, 400: E400 },
    },
    async (_req, { query }) => {
      const page = await devices.list(query);
      const online = await onlineOf(page.devices.map((d) => d.id));
      const body: DeviceList = {
        ...page,
        devices: page.devices.map((d) => ({ ...d, online: online.has(d.id) })),
      };
      return { status: 200, body };
    },
  );

  route(
    r,
    {
      method: 'get',
      path: '/devices/:id',
      summary: 'One device (never its password or hash)',
      responses: { 200: { description: 'The device', schema: listedDevice }, 404: E404 },
    },
    async (req) => {
      const d = await devices.get(id(req.params.id));
      if (!d) throw notFound(`device "${id(req.params.id)}" not found`);
      const online = (await onlineOf([d.id])).has(d.id);
      return { status: 200, body: { ...d, online } satisfies ListedDevice };
    },
  );

  route(
    r,
    {
      method: 'patch',
      path: '/devices/:id',
      summary: 'Change disabled, superuser, clientIds or metadata',
      body: patchDeviceBody,
      responses: { 200: { description: 'The device', schema: device }, 400: E400, 404: E404 },
    },
    (req, { body }) =>
      answer(req, devices.as(actorOf(req)).patch(id(req.params.id), body), (d) => ({
        status: 200,
        body: d,
      })),
  );

  route(
    r,
    {
      method: 'delete',
      path: '/devices/:id',
      summary: 'Remove a device; it is refused from then on',
      responses: { 204: { description: 'Deleted' }, 404: E404 },
    },
    (req) =>
      answer(
        req,
        devices.as(actorOf(req)).remove(id(req.params.id)),
        () => ({ status: 204 }),
        id(req.params.id),
      ),
  );

  route(
    r,
    {
      method: 'post',
      path: '/devices/:id/password',
      summary: 'Rotate the password; the new one is returned this once, the old one is refused',
      body: rotateBody,
      responses: {
        200: { description: 'Rotated', schema: deviceWithPassword },
        400: E400,
        404: E404,
      },
    },
    (req, { body }) =>
      answer(
        req,
        devices.as(actorOf(req)).rotate(id(req.params.id), body.password),
        ({ device: d, password }) => ({
          status: 200,
          body: { ...d, password } satisfies DeviceWithPassword,
        }),
      ),
  );

  route(
    r,
    {
      method: 'put',
      path: '/devices/:id/acl',
      summary: "Replace the device's own ACL rules",
      body: aclBody,
      responses: { 200: { description: 'The device', schema: device }, 400: E400, 404: E404 },
    },
    (req, { body }) =>
      answer(req, devices.as(actorOf(req)).setAcl(id(req.params.id), body.acl), (d) => ({
        status: 200,
        body: d,
      })),
  );
  return r;
}
