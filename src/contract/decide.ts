// POST /api/v1/decide (what the checks would decide, and why) and the live check counters.
import { z } from 'zod';
import { ACC_EXPECTED, ACC_WORDS, type Acc, type AccWord } from '../domain/acl';
import { lockState } from './lockouts';

export const decideBody = z
  .object({
    username: z.string().min(1).max(65535),
    clientid: z.string().max(65535).default(''),
    topic: z.string().max(65535),
    acc: z
      .union(
        [
          z.enum(Object.keys(ACC_WORDS) as [AccWord, ...AccWord[]]),
          z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
        ],
        { error: ACC_EXPECTED },
      )
      .transform((a): Acc => (typeof a === 'number' ? a : ACC_WORDS[a]))
      .describe(
        'read (a delivery to the device), write (a publish), readwrite (both), subscribe (a ' +
          'filter); or as go-auth sends it: 1 read, 2 write, 3 readwrite, 4 subscribe',
      ),
  })
  .strict();

export const decideAnswer = z.object({
  allow: z.boolean(),
  reason: z.string(),
  rule: z
    .object({
      index: z.number().describe('Position in the own or common rules'),
      pattern: z.string(),
      access: z.string(),
      resolved: z.string().nullable().describe('The pattern with %u and %c filled in'),
    })
    .nullable(),
  source: z.enum(['own', 'common', 'superuser']).nullable(),
  connect: z.object({
    exists: z.boolean(),
    disabled: z.boolean(),
    damaged: z.array(z.object({ field: z.string(), reason: z.string() })),
    superuser: z.boolean(),
    clientIdAllowed: z.boolean(),
    lockout: z.object({ username: lockState, clientid: lockState }),
    allow: z.boolean(),
    reason: z.string(),
  }),
});

const counts = z.object({ allow: z.number(), deny: z.number(), error: z.number() });
export const checkStats = z.object({
  at: z.string(),
  total: counts,
  byKind: z.record(z.string(), counts),
});
export type DecideBody = z.input<typeof decideBody>;
export type DecideAnswer = z.infer<typeof decideAnswer>;
export type CheckCounts = z.infer<typeof counts>;
export type CheckStats = z.infer<typeof checkStats>;
