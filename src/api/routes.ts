// Routes are declared once: the declaration registers the Express handler with its schema
// validation AND feeds the OpenAPI document.
import type { Request, RequestHandler, Router } from 'express';
import type { z } from 'zod';
import { unsupportedMediaType, validationError } from '../errors';
import { trackerOf } from './idempotency';

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path under /api/v1, e.g. /devices/:id */
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

export interface Parsed<B, Q> {
  body: B;
  query: Q;
}

export const ROUTES: RouteSpec[] = [];

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const path = [where, ...i.path.map(String)].join('.');
    const extra =
      i.code === 'unrecognized_keys' ? ` (${(i as { keys: string[] }).keys.join(', ')})` : '';
    return { field: path, message: i.message + extra };
  });
  const first = issues[0] as { field: string; message: string };
  throw validationError(`${first.field}: ${first.message}`, issues);
}

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

export function route<B = undefined, Q = undefined>(
  router: Router,
  spec: RouteSpec & { body?: z.ZodType<B>; query?: z.ZodType<Q> },
  handler: (req: Request, parsed: Parsed<B, Q>) => Promise<{ status: number; body?: unknown }>,
): void {
  if (!ROUTES.some((r) => r.method === spec.method && r.path === spec.path)) ROUTES.push(spec);
  const h: RequestHandler = async (req, res) => {
    if (spec.body && req.body === undefined && hasBody(req)) {
      throw unsupportedMediaType('Content-Type must be application/json');
    }
    const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : (undefined as B);
    const query = spec.query ? parse(spec.query, req.query, 'query') : (undefined as Q);
    const out = await handler(req, { body, query });
    // Kept for a retry with the same Idempotency-Key, also when the deadline answered already.
    await trackerOf(res)?.done(out);
    if (res.headersSent) return; // answered 503 by the deadline meanwhile
    res.setHeader('Cache-Control', 'no-store');
    if (out.body === undefined) res.status(out.status).end();
    else res.status(out.status).json(out.body);
  };
  router[spec.method](spec.path, h);
}

/** The admin token's name requireAdmin found for this request (what the audit trail shows). */
export const actorOf = (req: Request): string =>
  (req.res?.locals as { actor?: string } | undefined)?.actor ?? 'unknown';
