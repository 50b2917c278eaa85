// The devices part of the management API's contract: request and response bodies as zod
// schemas (the routes validate with them, the OpenAPI document is made from them, tests check
// real responses against them) and their types (the console imports those, type-only).
import { z } from 'zod';
import {
  aclInputList,
  aclList,
  aclRuleInput,
  clientIdList as clientIds,
  metadataSchema as metadata,
  passwordSchema as password,
} from '../domain/device-schemas';
import { usernameProblem, MAX_NAME_LENGTH } from '../domain/names';
import type { AclRule } from '../domain/acl';

export { aclRuleInput };

export const deviceId = z
  .string()
  .max(MAX_NAME_LENGTH)
  .superRefine((v, ctx) => {
    const problem = usernameProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'Device id, also its MQTT username. No ":", whitespace, control characters, "+", "#" or "/"; well-formed Unicode in NFC, something visible.',
  );

export const createDeviceBody = z
  .object({
    id: deviceId.optional(),
    password: password.optional(),
    superuser: z.boolean().optional(),
    disabled: z.boolean().optional(),
    acl: aclInputList.optional(),
    clientIds: clientIds.optional(),
    metadata: metadata.optional(),
  })
  .strict();

export const patchDeviceBody = z
  .object({
    disabled: z.boolean().optional(),
    superuser: z.boolean().optional(),
    clientIds: clientIds.optional(),
    metadata: metadata.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' });

export const rotateBody = z.object({ password: password.optional() }).strict();
export const aclBody = z.object({ acl: aclInputList }).strict();

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(1024).optional(),
    prefix: z.string().max(MAX_NAME_LENGTH).optional().describe('Only ids starting with this'),
  })
  .strict();

export const device = z.object({
  id: z.string(),
  username: z.string(),
  superuser: z.boolean(),
  disabled: z.boolean(),
  acl: aclList,
  clientIds: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
  hashScheme: z
    .string()
    .describe(
      'Scheme of the stored password hash (never the hash): $7$, $6$, go-auth-pbkdf2-sha512, go-auth-pbkdf2-sha256, bcrypt, argon2id or unknown. Devices with a legacy scheme get $7$ at their next correct login.',
    ),
  damaged: z
    .array(z.object({ field: z.string(), reason: z.string() }))
    .optional()
    .describe(
      'Present when what Redis holds for this device does not decode: the fields named read ' +
        'as empty, and the device is refused every check until they are rewritten.',
    ),
});
export const deviceWithPassword = device.extend({
  password: z.string().describe('Shown this once; only its hash is stored.'),
});
/** A device as GET answers it: with whether a broker reports a session of it now. */
export const listedDevice = device.extend({
  online: z
    .boolean()
    .describe(
      'A broker with the mqtt-authd plugin reports a session of this device now (docs/presence.md); always false behind go-auth',
    ),
});
export const deviceList = z.object({
  devices: z.array(listedDevice),
  next: z.string().nullable(),
});
export const aclRules = z.object({ acl: aclList });

export type { AclRule };
export type Device = z.infer<typeof device>;
export type DeviceWithPassword = z.infer<typeof deviceWithPassword>;
export type DeviceList = z.infer<typeof deviceList>;
export type ListedDevice = z.infer<typeof listedDevice>;
export type CreateDeviceBody = z.input<typeof createDeviceBody>;
export type PatchDeviceBody = z.input<typeof patchDeviceBody>;
