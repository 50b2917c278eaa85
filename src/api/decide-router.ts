// The decision explainer and the live check counters the console shows.
import { Router } from 'express';
import { z } from 'zod';
import { explainDecision } from '../checks/explain-decision';
import type { LoginThrottle } from '../checks/login-throttle';
import { ACC_EXPECTED, ACC_WORDS, type Acc, type AccWord } from '../domain/acl';
import type { Metrics } from '../ops/metrics';
import type { CredentialStore } from '../store/credential-store';
import { errorBody } from './schemas';
import { route } from './routes';

export const decideBody = z
  .object({
    username: z.string().min(1).max(65535),
    clientid: z.string().max(65535).default(''),
    topic: z.string().max(65535),
    acc: z
      .union(
        [
          z.enum(Object.keys(ACC_WORDS) as [AccWord, ...AccWord[]]),
          z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
        ],
        { error: ACC_EXPECTED },
      )
      .transform((a): Acc => (typeof a === 'number' ? a : ACC_WORDS[a]))
      .describe(
        'read (a delivery to the device), write (a publish), readwrite (both), subscribe (a ' +
          'filter); or as go-auth sends it: 1 read, 2 write, 3 readwrite, 4 subscribe',
      ),
  })
  .strict();

const lockState = z.object({ locked: z.boolean(), failures: z.number(), retryAfterS: z.number() });
export const decideAnswer = z.object({
  allow: z.boolean(),
  reason: z.string(),
  rule: z
    .object({
      index: z.number().describe('Position in the own or common rules'),
      pattern: z.string(),
      access: z.string(),
      resolved: z.string().nullable().describe('The pattern with %u and %c filled in'),
    })
    .nullable(),
  source: z.enum(['own', 'common', 'superuser']).nullable(),
  connect: z.object({
    exists: z.boolean(),
    disabled: z.boolean(),
    damaged: z.array(z.object({ field: z.string(), reason: z.string() })),
    superuser: z.boolean(),
    clientIdAllowed: z.boolean(),
    lockout: z.object({ username: lockState, clientid: lockState }),
    allow: z.boolean(),
    reason: z.string(),
  }),
});

const counts = z.object({ allow: z.number(), deny: z.number(), error: z.number() });
const checkStats = z.object({
  at: z.string(),
  total: counts,
  byKind: z.record(z.string(), counts),
});

export function createDecideRouter(
  store: CredentialStore,
  throttle: LoginThrottle,
  metrics: Metrics,
): Router {
  const r = Router();
  route(
    r,
    {
      method: 'post',
      path: '/decide',
      summary:
        'What the broker checks would decide now for this user, client id, topic and acc, the ' +
        'rule that decided and why; also whether CONNECT can succeed (no password needed)',
      body: decideBody,
      responses: {
        200: { description: 'The decision and why', schema: decideAnswer },
        400: { description: 'Invalid request', schema: errorBody },
      },
    },
    async (_req, { body }) => ({
      status: 200,
      body: await explainDecision(store, throttle, body),
    }),
  );
  route(
    r,
    {
      method: 'get',
      path: '/stats/checks',
      summary: 'Broker checks answered by this process since it started, by result and kind',
      responses: { 200: { description: 'Counters', schema: checkStats } },
    },
    async () => {
      const total = { allow: 0, deny: 0, error: 0 };
      const byKind: Record<string, typeof total> = {};
      for (const v of (await metrics.checks.get()).values) {
        const kind = String(v.labels.kind);
        const result = v.labels.result as keyof typeof total;
        if (!(result in total)) continue;
        total[result] += v.value;
        (byKind[kind] ??= { allow: 0, deny: 0, error: 0 })[result] += v.value;
      }
      return { status: 200, body: { at: new Date().toISOString(), total, byKind } };
    },
  );
  return r;
}
