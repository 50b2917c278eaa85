// Sessions (issue 27): who is online, where, since when (GET /api/v1/sessions, GET
// /api/v1/presence) and POST /api/v1/devices/{id}/disconnect. Reported by the mqtt-authd
// plugin in each broker (docs/presence.md); go-auth brokers report none.
import { z } from 'zod';
import { MAX_NAME_LENGTH } from '../domain/names';

export const sessionsQuery = z
  .object({
    username: z.string().min(1).max(MAX_NAME_LENGTH).optional().describe('Only this device'),
    broker: z.string().min(1).max(256).optional().describe('Only this broker (its broker_id)'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200_000).optional(),
  })
  .strict();

export const session = z.object({
  username: z.string(),
  clientid: z.string(),
  broker: z.string().describe("The broker's plugin_opt_broker_id (default host:port)"),
  address: z.string().describe("The client's address as the broker saw it"),
  protocol: z.number().describe('MQTT protocol level: 3 (3.1), 4 (3.1.1), 5 (5.0)'),
  connectedAt: z.string().describe("CONNECT time, by the broker's clock"),
});
export const sessionList = z.object({
  sessions: z.array(session),
  next: z.string().nullable().describe('Cursor of the next page; null: this was the last'),
});

export const disconnectAnswer = z.object({
  username: z.string(),
  sessions: z
    .number()
    .describe('Sessions presence knew of, each asked to close (0: none known; asked anyway)'),
});

const decisionCounters = z.record(z.string(), z.record(z.string(), z.number()));
export const brokerPresence = z.object({
  broker: z.string(),
  sessions: z.number(),
  heartbeatMs: z.number(),
  seenAt: z.string().describe('The last batch or heartbeat, by the service clock'),
  connects: z.number().describe('Connects reported since the broker was first heard from'),
  disconnects: z.number(),
  counters: decisionCounters.describe(
    "The plugin's decisions since it started: {allow|deny|asked: {user|superuser|acl: n}}",
  ),
});
export const presenceAnswer = z.object({
  at: z.string(),
  brokers: z.array(brokerPresence).describe('Brokers heard from within 3 heartbeats'),
});

export type Session = z.infer<typeof session>;
export type SessionList = z.infer<typeof sessionList>;
export type DisconnectAnswer = z.infer<typeof disconnectAnswer>;
export type BrokerPresence = z.infer<typeof brokerPresence>;
export type PresenceAnswer = z.infer<typeof presenceAnswer>;
