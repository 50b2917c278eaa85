// The export's status as GET/POST /api/v1/export answer it.
import { z } from 'zod';

export const exportStatus = z.object({
  enabled: z.boolean(),
  pending: z.boolean(),
  running: z.boolean(),
  lastSuccessAt: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastDurationMs: z.number().nullable(),
  lastRevision: z.number().nullable(),
  users: z.number().nullable(),
  skipped: z.record(z.string(), z.number()),
  damaged: z
    .array(z.object({ username: z.string(), reason: z.string() }))
    .describe('Records left out because what Redis holds does not decode (first 100)'),
  unloadable: z
    .array(z.object({ username: z.string(), reason: z.string() }))
    .describe(
      'Hashes and rule lines Mosquitto 2.1 would refuse (it quits on them), left out; a deny becomes deny-everything (first 100; "common rules" for common ones)',
    ),
  rulesLeftOut: z.number(),
  consecutiveFailures: z.number(),
  reload: z
    .object({
      state: z.enum(['off', 'none-yet', 'checking', 'ok', 'no-broker', 'broker-died', 'failed']),
      at: z.string().nullable(),
      pid: z.number().nullable(),
      message: z.string().nullable(),
    })
    .describe(
      'What the last MOSQUITTO_RELOAD did. no-broker (none at the pid file yet) is not a failure; broker-died (it quit after SIGHUP) makes /readyz 503',
    ),
});
export type ExportStatus = z.infer<typeof exportStatus>;
