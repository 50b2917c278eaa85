import { Router } from 'express';
import { z } from 'zod';
import type { DeviceService } from '../devices/device-service';
import type { Exporter } from '../export/exporter';
import type { AuditLog } from '../ops/audit';
import { exportFailed, exportNotConfigured } from '../errors';
import { aclBody, aclRules, auditQuery, errorBody } from './schemas';
import { actorOf, route } from './routes';

const exportStatus = z.object({
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
const auditEntries = z.object({
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

export function createAdminRouter(
  devices: DeviceService,
  exporter: Exporter,
  audit: AuditLog,
): Router {
  const r = Router();
  route(
    r,
    {
      method: 'get',
      path: '/acl/common',
      summary: 'The rules that apply to every device',
      responses: { 200: { description: 'Rules', schema: aclRules } },
    },
    async () => ({ status: 200, body: { acl: await devices.getCommonAcl() } }),
  );
  route(
    r,
    {
      method: 'put',
      path: '/acl/common',
      summary: 'Replace the rules that apply to every device',
      body: aclBody,
      responses: {
        200: { description: 'Rules', schema: aclRules },
        400: { description: 'Invalid', schema: errorBody },
      },
    },
    async (req, { body }) => ({
      status: 200,
      body: { acl: await devices.as(actorOf(req)).setCommonAcl(body.acl) },
    }),
  );
  route(
    r,
    {
      method: 'get',
      path: '/export',
      summary: 'State of the passwd/acl_file export: last success, last error, pending changes',
      responses: { 200: { description: 'Status', schema: exportStatus } },
    },
    async () => ({ status: 200, body: exporter.status }),
  );
  route(
    r,
    {
      method: 'post',
      path: '/export',
      summary:
        'Export now and answer with the resulting status (409 when PASSWD_FILE and ACL_FILE are ' +
        'both unset, 503 when the export failed)',
      responses: {
        200: { description: 'Status', schema: exportStatus },
        409: {
          description: 'export_not_configured: the message names the variables to set',
          schema: errorBody,
        },
        503: { description: 'The export failed; the message says why', schema: errorBody },
      },
    },
    async () => {
      if (!exporter.status.enabled) throw exportNotConfigured();
      await exporter.run(true);
      // A success resets the count: non-zero after our run means our run failed.
      if (exporter.status.enabled && exporter.status.consecutiveFailures > 0)
        throw exportFailed(exporter.status.lastError ?? 'unknown error');
      return { status: 200, body: exporter.status };
    },
  );
  route(
    r,
    {
      method: 'get',
      path: '/audit',
      summary: 'Management changes, newest first; page with ?before=<id>',
      query: auditQuery,
      responses: { 200: { description: 'Entries', schema: auditEntries } },
    },
    async (_req, { query }) => {
      const entries = await audit.read(query.limit, query.before);
      const last = entries[entries.length - 1];
      return {
        status: 200,
        body: { entries, next: entries.length === query.limit && last ? last.id : null },
      };
    },
  );
  return r;
}
