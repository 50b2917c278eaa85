// Presence on /metrics (issue 27): read from Redis at each scrape, so every service process
// shows the whole fleet (scrape one, or aggregate with max, not sum). Labelled by broker id:
// operators name brokers (plugin_opt_broker_id), so the label set stays small.
import { Counter, Gauge } from 'prom-client';
import type { Logger } from '../logger';
import type { BrokerState } from '../store/presence-store';
import type { Metrics } from './metrics';

export function registerPresenceMetrics(
  metrics: Metrics,
  states: () => Promise<BrokerState[]>,
  logger: Logger,
): void {
  const registers = [metrics.registry];
  // One read per scrape, shared by the four metrics below.
  let pending: Promise<BrokerState[]> | null = null;
  const read = () =>
    (pending ??= states()
      .catch((err: unknown) => {
        logger.warn({ err: (err as Error).message }, 'presence metrics: store unreachable');
        return [];
      })
      .finally(() => setImmediate(() => (pending = null))));

  const sessions = new Gauge({
    name: 'mqtt_authd_broker_sessions',
    help: 'Sessions a broker reports (brokers heard from within 3 heartbeats)',
    labelNames: ['broker'] as const,
    registers,
    async collect() {
      sessions.reset();
      for (const s of await read()) sessions.labels(s.broker).set(s.sessions);
    },
  });
  const moves = new Counter({
    name: 'mqtt_authd_broker_session_changes_total',
    help: 'Connects and disconnects a broker reported since it was first heard from, by change',
    labelNames: ['broker', 'change'] as const,
    registers,
    async collect() {
      moves.reset();
      for (const s of await read()) {
        moves.labels(s.broker, 'connect').inc(s.connects);
        moves.labels(s.broker, 'disconnect').inc(s.disconnects);
      }
    },
  });
  const decisions = new Counter({
    name: 'mqtt_authd_plugin_decisions_total',
    help: 'What a broker plugin decided since it started (decision: allow, deny, asked; kind: user, superuser, acl, …)',
    labelNames: ['broker', 'decision', 'kind'] as const,
    registers,
    async collect() {
      decisions.reset();
      for (const s of await read()) {
        for (const [decision, kinds] of Object.entries(s.counters)) {
          for (const [kind, n] of Object.entries(kinds)) {
            decisions.labels(s.broker, decision, kind).inc(n);
          }
        }
      }
    },
  });
}
