// OpenAPI 3.1 from the same zod schemas that validate requests (3.1 is JSON Schema 2020-12).
import { z } from 'zod';
import type { RouteSpec } from './routes';

const toSchema = (s: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};

/** Every write takes one (docs/api.md#retries-and-idempotency-key). */
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'A random key (a UUID) for this change; a retry with the same key and request within 24 h ' +
    'gets the first answer (a generated password included)',
  schema: { type: 'string', minLength: 16, maxLength: 255 },
};
const IDEMPOTENCY_RESPONSES = {
  409: { description: 'Conflict, or the first attempt with this Idempotency-Key still runs' },
  422: { description: 'The Idempotency-Key was used for another request' },
  503: {
    description:
      'store_unavailable (not applied), write_unconfirmed (applied on the primary, not yet on a ' +
      'replica) or write_outcome_unknown: retry with the same Idempotency-Key after Retry-After',
  },
};

export function buildOpenApi(routes: readonly RouteSpec[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = '/api/v1' + r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = r.query ? toSchema(r.query) : null;
    const queryParams = query
      ? Object.entries((query.properties ?? {}) as Record<string, unknown>).map(
          ([name, schema]) => ({
            name,
            in: 'query',
            required: false,
            schema,
          }),
        )
      : [];
    const write = r.method !== 'get';
    const responses: Record<string, unknown> = {
      401: { description: 'Missing or invalid bearer token' },
      ...(write && IDEMPOTENCY_RESPONSES),
    };
    for (const [code, resp] of Object.entries(r.responses)) {
      responses[code] = resp.schema
        ? {
            description: resp.description,
            content: { 'application/json': { schema: toSchema(resp.schema) } },
          }
        : { description: resp.description };
    }
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      parameters: [...params, ...queryParams, ...(write ? [IDEMPOTENCY_KEY] : [])],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toSchema(r.body) } },
            },
          }
        : {}),
      responses,
      security: [{ bearer: [] }],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mqtt-authd management API',
      version,
      description:
        'Device registration for Mosquitto. Broker checks (/mqtt/user, /mqtt/superuser, /mqtt/acl) ' +
        'speak the mosquitto-go-auth HTTP protocol and are not part of this API, nor is the ' +
        "plugin's change stream (/mqtt/events, docs/events.md).",
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
