// The decision explainer and the live check counters the console shows.
import { Router } from 'express';
import { explainDecision } from '../checks/explain-decision';
import type { LoginThrottle } from '../checks/login-throttle';
import type { Metrics } from '../ops/metrics';
import type { CredentialStore } from '../store/credential-store';
import { checkStats, decideAnswer, decideBody, type DecideAnswer } from '../contract/decide';
import { errorBody } from '../contract/errors';
import { route } from './routes';

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
      body: (await explainDecision(store, throttle, body)) satisfies DecideAnswer,
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
