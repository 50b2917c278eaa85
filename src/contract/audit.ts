// The audit trail's part of the management API's contract.
import { z } from 'zod';

const U64_MAX = 2n ** 64n - 1n;
/** A stream id Redis accepts as an exclusive upper bound: both parts u64, not 0-0. */
function isPagingId(id: string): boolean {
  if (!/^\d+-\d+$/.test(id)) return true; // the regex reports it (zod runs both checks)
  const [ms, seq] = id.split('-').map((p) => BigInt(p)) as [bigint, bigint];
  return ms <= U64_MAX && seq <= U64_MAX && ms + seq > 0n;
}

/** `after`: a cursor from GET /audit, or an entry id (`0-0`: from the oldest kept entry). */
const isAfter = (v: string): boolean =>
  /^\d+-\d+$/.test(v) ? isPagingId(v) || v.split('-').every((p) => BigInt(p) === 0n) : true;

export const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z
      .string()
      .max(41)
      .regex(/^\d+-\d+$/, 'must be an audit entry id such as 1700000000000-0')
      .refine(isPagingId, 'must be an audit entry id above 0-0, each part below 2^64')
      .optional(),
    after: z
      .string()
      .max(3200)
      .regex(/^(?:\d+-\d+|1(?:\.[\d-]+)+)$/, 'must be a cursor returned by GET /audit, or 0-0')
      .refine(isAfter, 'must be an audit entry id, each part below 2^64')
      .optional(),
  })
  .strict()
  .refine((q) => q.before === undefined || q.after === undefined, {
    message: 'before and after cannot be combined',
    path: ['after'],
  });

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
  /** Newest first: `before` for the next, older page (null: no more). With `after`: null. */
  next: z.string().nullable(),
  /** Pass as `after` to get what came since, oldest first (absent on a `before` page). */
  cursor: z.string().optional(),
});
export type AuditEntry = z.infer<typeof auditEntries>['entries'][number];
export type AuditPage = z.infer<typeof auditEntries>;
