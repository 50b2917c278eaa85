// Every error answer of the management API: {"error":{code,message,details?}}. The codes are
// src/errors.ts's ERROR_CODES (and a few the HTTP layer makes itself: body_too_large, internal).
import { z } from 'zod';

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof errorBody>;
