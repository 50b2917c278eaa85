// The audit trail's part of the management API's contract.
import { z } from 'zod';

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

export const auditEntries = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      target: z.string(),
      before: z.unknown(),
      after: z.unknown(),
    }),
  ),
  next: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof auditEntries>['entries'][number];
export type AuditPage = z.infer<typeof auditEntries>;
