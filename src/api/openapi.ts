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
    const responses: Record<string, unknown> = {
      401: { description: 'Missing or invalid bearer token' },
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
      parameters: [...params, ...queryParams],
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
