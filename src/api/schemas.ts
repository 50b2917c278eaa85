// Request and response schemas of the management API: they validate requests at the route
// and they are the OpenAPI document (api/openapi.ts), so the two cannot drift.
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

export { aclRuleInput };

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

const U64_MAX = 2n ** 64n - 1n;
/** A stream id Redis accepts as an exclusive upper bound: both parts u64, not 0-0. */
function isPagingId(id: string): boolean {
  if (!/^\d+-\d+$/.test(id)) return true; // the regex reports it (zod runs both checks)
  const [ms, seq] = id.split('-').map((p) => BigInt(p)) as [bigint, bigint];
  return ms <= U64_MAX && seq <= U64_MAX && ms + seq > 0n;
}

export const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z
      .string()
      .max(41)
      .regex(/^\d+-\d+$/, 'must be an audit entry id such as 1700000000000-0')
      .refine(isPagingId, 'must be an audit entry id above 0-0, each part below 2^64')
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
export const deviceList = z.object({ devices: z.array(device), next: z.string().nullable() });
export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export const aclRules = z.object({ acl: aclList });
