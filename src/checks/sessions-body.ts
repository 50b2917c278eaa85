// The body of POST /mqtt/sessions (docs/broker-protocol.md, Sessions): checked once here, so
// the store gets only well-formed batches. Unknown fields are ignored (forward compatibility).
import { z } from 'zod';
import type { SessionBatch } from '../store/presence-store';
import { jsonDepth } from './json-depth';

/** The whole body; a plugin splits a larger snapshot over several batches. */
export const SESSIONS_BODY_LIMIT_BYTES = 1024 * 1024;
/** body → connected → session (or counters → decision → kind). */
const MAX_DEPTH = 3;

// MQTT strings hold no U+0000 (MQTT 5.0 §1.5.4); our members are `<username>\0<clientid>`.
const mqttString = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain U+0000');
const token = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without blanks');

const ended = z.object({ username: mqttString(65535).min(1), clientid: mqttString(65535) });
const session = ended.extend({
  address: z.string().max(256).default(''),
  protocol: z.union([z.literal(3), z.literal(4), z.literal(5)]),
  at: z.number().int().min(0).max(8.64e15),
  reason: z.union([z.string().max(256), z.number()]).optional(),
});
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const counterName = z.string().regex(/^[a-z_]{1,32}$/, 'must be 1-32 of a-z and _');
const counters = z
  .record(counterName, z.record(counterName, count))
  .refine((c) => Object.keys(c).length <= 8, 'at most 8 decisions')
  .refine((c) => Object.values(c).every((k) => Object.keys(k).length <= 16), 'at most 16 kinds');

export const sessionsBody = z.object({
  broker: token(256),
  boot: token(128),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  full: z.boolean(),
  heartbeatMs: z.number().int().min(500).max(60_000),
  connected: z.array(session).default([]),
  disconnected: z.array(ended).default([]),
  counters: counters.optional(),
});

export type BodyResult = { ok: true; batch: SessionBatch } | { ok: false; error: string };

/** Bytes in, a batch or the reason it is refused (naming the field). */
export function parseSessionsBody(text: string): BodyResult {
  if (jsonDepth(text, MAX_DEPTH) > MAX_DEPTH) return { ok: false, error: 'body nested too deep' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'body is not valid JSON' };
  }
  const r = sessionsBody.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, error: `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}` };
  }
  const b = r.data;
  return {
    ok: true,
    batch: {
      broker: b.broker,
      boot: b.boot,
      seq: b.seq,
      full: b.full,
      heartbeatMs: b.heartbeatMs,
      connected: b.connected.map((s) => ({
        username: s.username,
        clientid: s.clientid,
        address: s.address,
        protocol: s.protocol,
        at: s.at,
      })),
      disconnected: b.disconnected.map((d) => ({ username: d.username, clientid: d.clientid })),
      counters: b.counters,
    },
  };
}
