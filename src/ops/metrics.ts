// Prometheus metrics. Labels carry kinds and results, never usernames, client ids or topics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mqtt_authd_' });
  // Checks counted in plain numbers, added to the counter whenever it is read (a scrape,
  // /stats/checks): a labelled child's inc() hashes its labels each time, ~350 ns a check.
  const tallies: { labels: { kind: string; result: string }; n: number }[] = [];
  const m = {
    registry,
    checks: new Counter({
      name: 'mqtt_authd_checks_total',
      help: 'Broker checks answered, by kind (user, superuser, acl) and result (allow, deny, error)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
      collect() {
        for (const t of tallies) {
          if (t.n === 0) continue;
          this.inc(t.labels, t.n);
          t.n = 0;
        }
      },
    }),
    /** One kind and result of `checks`, counted on the hot path. */
    checkTally(kind: string, result: string): { inc(): void } {
      const t = { labels: { kind, result }, n: 0 };
      tallies.push(t);
      return {
        inc: () => {
          t.n++;
        },
      };
    },
    checkSeconds: new Histogram({
      name: 'mqtt_authd_check_duration_seconds',
      help: 'Time to answer a broker check, by kind',
      labelNames: ['kind'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'mqtt_authd_redis_errors_total',
      help: 'Store operations that failed because Redis was unreachable or too slow',
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'mqtt_authd_cache_lookups_total',
      help: 'User cache lookups by result (hit, miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    exportRuns: new Counter({
      name: 'mqtt_authd_export_runs_total',
      help: 'passwd/acl_file exports, by result (ok, error, skipped)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    exportSeconds: new Histogram({
      name: 'mqtt_authd_export_duration_seconds',
      help: 'Time to write both export files',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    exportPending: new Gauge({
      name: 'mqtt_authd_export_pending',
      help: '1 while changes are waiting to be exported',
      registers: [registry],
    }),
    brokerReloads: new Counter({
      name: 'mqtt_authd_broker_reloads_total',
      help: 'MOSQUITTO_RELOAD after an export, by result (ok, no-broker: none at the pid file yet, died: the broker quit after SIGHUP, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    brokerDied: new Gauge({
      name: 'mqtt_authd_broker_died',
      help: '1 while the broker that quit after our last SIGHUP has not been seen running again',
      registers: [registry],
    }),
    managementCalls: new Counter({
      name: 'mqtt_authd_management_requests_total',
      help: 'Management API requests by route and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    lockouts: new Counter({
      name: 'mqtt_authd_lockouts_total',
      help: 'Usernames or client ids locked out after repeated failed logins, by key kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    rehashes: new Counter({
      name: 'mqtt_authd_password_rehash_total',
      help: 'Legacy hashes replaced by $7$ at a correct login, by result (upgraded, changed: the hash had changed meanwhile, error)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    staleAnswers: new Counter({
      name: 'mqtt_authd_stale_answers_total',
      help: 'Checks answered from a cache entry while Redis was unreachable (CACHE_SERVE_STALE_MS)',
      registers: [registry],
    }),
    throttled: new Counter({
      name: 'mqtt_authd_throttled_checks_total',
      help: 'User checks denied without hashing because the name was locked out',
      registers: [registry],
    }),
    eventStreams: new Gauge({
      name: 'mqtt_authd_event_streams',
      help: 'Open GET /mqtt/events streams (Mosquitto plugins listening for changes)',
      registers: [registry],
    }),
    eventsSent: new Counter({
      name: 'mqtt_authd_events_sent_total',
      help: 'Events written to /mqtt/events streams, by event (hello, user, common, reset, disconnect, lock), one per stream',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    sessionReports: new Counter({
      name: 'mqtt_authd_session_reports_total',
      help: 'POST /mqtt/sessions batches, by outcome (applied, duplicate, needFull, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
