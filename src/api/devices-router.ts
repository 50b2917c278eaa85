import { Router } from 'express';
import type { DeviceService } from '../devices/device-service';
import { notFound } from '../errors';
import {
  aclBody,
  createDeviceBody,
  device,
  deviceList,
  deviceWithPassword,
  listQuery,
  patchDeviceBody,
  rotateBody,
  type Device,
  type DeviceList,
  type DeviceWithPassword,
} from '../contract/devices';
import { errorBody } from '../contract/errors';
import { actorOf, route } from './routes';

const E400 = { description: 'Invalid request; the message names the field', schema: errorBody };
const E404 = { description: 'No such device', schema: errorBody };

export function createDevicesRouter(devices: DeviceService): Router {
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
    async (req, { body }) => {
      const { device: d, password } = await devices.as(actorOf(req)).create(body);
      return { status: 201, body: { ...d, password } satisfies DeviceWithPassword };
    },
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
    async (_req, { query }) => ({
      status: 200,
      body: (await devices.list(query)) satisfies DeviceList,
    }),
  );

  route(
    r,
    {
      method: 'get',
      path: '/devices/:id',
      summary: 'One device (never its password or hash)',
      responses: { 200: { description: 'The device', schema: device }, 404: E404 },
    },
    async (req) => {
      const d = await devices.get(id(req.params.id));
      if (!d) throw notFound(`device "${id(req.params.id)}" not found`);
      return { status: 200, body: d satisfies Device };
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
    async (req, { body }) => ({
      status: 200,
      body: await devices.as(actorOf(req)).patch(id(req.params.id), body),
    }),
  );

  route(
    r,
    {
      method: 'delete',
      path: '/devices/:id',
      summary: 'Remove a device; it is refused from then on',
      responses: { 204: { description: 'Deleted' }, 404: E404 },
    },
    async (req) => {
      await devices.as(actorOf(req)).remove(id(req.params.id));
      return { status: 204 };
    },
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
    async (req, { body }) => {
      const { device: d, password } = await devices
        .as(actorOf(req))
        .rotate(id(req.params.id), body.password);
      return { status: 200, body: { ...d, password } satisfies DeviceWithPassword };
    },
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
    async (req, { body }) => ({
      status: 200,
      body: await devices.as(actorOf(req)).setAcl(id(req.params.id), body.acl),
    }),
  );
  return r;
}
