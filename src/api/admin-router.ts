import { Router } from 'express';
import type { DeviceService } from '../devices/device-service';
import type { Exporter } from '../export/exporter';
import type { AuditLog } from '../ops/audit';
import { parseAfter } from '../domain/audit-cursor';
import { exportFailed, exportNotConfigured, validationError } from '../errors';
import { auditEntries, auditQuery, type AuditPage } from '../contract/audit';
import { aclBody, aclRules } from '../contract/devices';
import { errorBody } from '../contract/errors';
import { exportStatus, type ExportStatus } from '../contract/export';
import { actorOf, route } from './routes';

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
    async () => ({ status: 200, body: exporter.status satisfies ExportStatus }),
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
      return { status: 200, body: exporter.status satisfies ExportStatus };
    },
  );
  route(
    r,
    {
      method: 'get',
      path: '/audit',
      summary:
        'Management changes, newest first (page with ?before=<id>); or oldest first since ?after=<cursor>',
      query: auditQuery,
      responses: { 200: { description: 'Entries', schema: auditEntries } },
    },
    async (_req, { query }) => {
      if (query.after !== undefined) {
        const cursor = parseAfter(query.after);
        if (typeof cursor === 'string') throw validationError(`query.after: ${cursor}`);
        const page = await audit.after(cursor, query.limit);
        return { status: 200, body: { ...page, next: null } satisfies AuditPage };
      }
      const page = query.before
        ? { entries: await audit.read(query.limit, query.before) }
        : await audit.head(query.limit);
      const last = page.entries[page.entries.length - 1];
      return {
        status: 200,
        body: {
          ...page,
          next: page.entries.length === query.limit && last ? last.id : null,
        } satisfies AuditPage,
      };
    },
  );
  return r;
}
