// Failed-login counts and lockouts (GET/DELETE /api/v1/lockouts…).
import { z } from 'zod';

export const lockoutKind = z.enum(['username', 'clientid']);
export const lockState = z.object({
  locked: z.boolean(),
  failures: z.number(),
  retryAfterS: z.number(),
});

export const lockoutsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(2048).optional(),
  })
  .strict();

// A lockout of any name, even one a path cannot carry ("..", "%2e", "a/b": anyone can create
// one by failing logins with it), is cleared with the name in the query string.
export const clearLockoutQuery = z
  .object({
    username: z.string().min(1).max(65536).optional(),
    clientid: z.string().min(1).max(65536).optional(),
  })
  .strict()
  .refine((q) => (q.username === undefined) !== (q.clientid === undefined), {
    message: 'give exactly one of username or clientid',
  });

export const lockout = lockState.extend({
  kind: lockoutKind,
  name: z.string().describe('The user name or client id (its first 256 characters when truncated)'),
  truncated: z.boolean().describe('name holds only the first 256 characters'),
  until: z.string(),
});
export const lockoutList = z.object({ lockouts: z.array(lockout), next: z.string().nullable() });

export type LockKind = z.infer<typeof lockoutKind>;
export type LockState = z.infer<typeof lockState>;
export type Lockout = z.infer<typeof lockout>;
export type LockoutPage = z.infer<typeof lockoutList>;
