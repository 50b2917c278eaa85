// The shapes of a device's fields: one set of zod schemas that validates API requests AND
// decodes what the store reads back from Redis (stored data is input too).
import { z } from 'zod';
import { ACCESS, isValidRulePattern, MAX_CLIENT_ID_LENGTH, ruleLimitProblem } from './acl';

export const MAX_PATTERN_LENGTH = 1024;

export const aclRuleSchema = z
  .object({
    pattern: z
      .string()
      .min(1)
      .max(MAX_PATTERN_LENGTH)
      .refine(isValidRulePattern, {
        message:
          'must be an MQTT topic filter: "+" and "#" only as whole levels, "#" last; ' +
          'no control characters, no blanks at either end',
      }),
    access: z.enum(ACCESS),
  })
  .strict();

export const MAX_RULES = 1000;
export const aclList = z.array(aclRuleSchema).max(MAX_RULES);

/**
 * A rule as a NEW input (API bodies, the CLI, COMMON_ACL_DEFAULT): also within what Mosquitto
 * loads for every id (ruleLimitProblem). Stored rules decode with aclRuleSchema, so one
 * written before this limit keeps deciding; the export leaves out its line instead.
 */
export const aclRuleInput = aclRuleSchema.superRefine((rule, ctx) => {
  const problem = ruleLimitProblem(rule.pattern);
  if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
});
export const aclInputList = z.array(aclRuleInput).max(MAX_RULES);

export const clientIdList = z
  .array(
    z
      .string()
      .min(1)
      .max(MAX_CLIENT_ID_LENGTH)
      .regex(/^[^\u0000]*$/, 'must not contain NUL'),
  )
  .max(100)
  .describe('Client ids this device may connect with (exact; %u is the username). Empty: any.');

/** Keys that would reach an object's prototype if a consumer merged the metadata naively. */
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
const hasForbiddenKey = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && FORBIDDEN_KEYS.some((k) => Object.hasOwn(v, k));

// Checked before zod copies the record, which silently drops `__proto__` (a PATCH with one
// then wiped the metadata).
export const metadataSchema = z
  .preprocess(
    (v, ctx) => {
      if (hasForbiddenKey(v))
        ctx.addIssue({
          code: 'custom',
          message: `keys ${FORBIDDEN_KEYS.join(', ')} are not allowed`,
        });
      return v;
    },
    z
      .record(
        z.string().max(128),
        z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]),
      )
      .refine((m) => Object.keys(m).length <= 64, { message: 'at most 64 keys' }),
  )
  .describe('Free-form string, number or boolean values, for the provisioning system.');

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN)
  .max(PASSWORD_MAX)
  // A lone surrogate has no UTF-8 form: it would be hashed as U+FFFD, so another password
  // with any other lone surrogate there would verify too.
  .refine((p) => !/\p{Cs}/u.test(p), {
    message: 'must be well-formed Unicode (a lone surrogate such as \\ud800 has no UTF-8 form)',
  })
  .describe(`At least ${PASSWORD_MIN} characters; omit to have one generated.`);
