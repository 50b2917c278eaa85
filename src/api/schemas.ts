// Request and response schemas of the management API: they validate requests at the route
// and they are the OpenAPI document (api/openapi.ts), so the two cannot drift.
import { z } from 'zod';
import { aclRuleSchema } from '../config';
import { usernameProblem, MAX_NAME_LENGTH } from '../domain/names';

export { aclRuleSchema };

export const deviceId = z
  .string()
  .max(MAX_NAME_LENGTH)
  .superRefine((v, ctx) => {
    const problem = usernameProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'Device id, also its MQTT username. No ":", whitespace, control characters, "+", "#" or "/".',
  );

const password = z
  .string()
  .min(8)
  .max(256)
  .describe('At least 8 characters; omit to have one generated.');
const aclList = z.array(aclRuleSchema).max(1000);
const clientIds = z
  .array(
    z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\u0000]*$/, 'must not contain NUL'),
  )
  .max(100)
  .describe('Client ids this device may connect with (exact; %u is the username). Empty: any.');
const metadata = z
  .record(z.string().max(128), z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 64, { message: 'at most 64 keys' })
  .describe('Free-form string, number or boolean values, for the provisioning system.');

export const createDeviceBody = z
  .object({
    id: deviceId.optional(),
    password: password.optional(),
    superuser: z.boolean().optional(),
    disabled: z.boolean().optional(),
    acl: aclList.optional(),
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
export const aclBody = z.object({ acl: aclList }).strict();

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(1024).optional(),
    prefix: z.string().max(MAX_NAME_LENGTH).optional().describe('Only ids starting with this'),
  })
  .strict();

export const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z
      .string()
      .regex(/^\d+-\d+$/, 'must be an audit entry id such as 1700000000000-0')
      .optional(),
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
});
export const deviceWithPassword = device.extend({
  password: z.string().describe('Shown this once; only its hash is stored.'),
});
export const deviceList = z.object({ devices: z.array(device), next: z.string().nullable() });
export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export const aclRules = z.object({ acl: aclList });
