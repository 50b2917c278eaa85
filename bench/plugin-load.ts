// MQTT load for bench/plugin.ts: QoS 1 publishes from N clients with a window in flight each
// (to one topic per client, or a new topic per message), connects of known devices on N
// lanes, and revocation trials (API answer → disconnect). Fanout and the reconnect storm are
// in plugin-storm.ts.
import mqtt, { type MqttClient } from 'mqtt';
import type { Answer } from '../test/support/http';

export interface Device {
  id: string;
  password: string;
}

/** The topic of a device's `n`th publish. */
export type TopicOf = (d: Device, n: number) => string;
export const ONE_TOPIC: TopicOf = (d) => `${d.id}/load`;
export const TOPIC_PER_MESSAGE: TopicOf = (d, n) => `${d.id}/load/${n}`;

export function connect(port: number, d: Device, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    username: d.id,
    password: d.password,
    clientId,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
}

/** PUBACKs per second over `seconds`, `devices.length` clients, `window` publishes in flight. */
export async function publishRate(
  port: number,
  devices: Device[],
  seconds: number,
  window: number,
  topicOf: TopicOf = ONE_TOPIC,
): Promise<number> {
  const clients = await Promise.all(devices.map((d, i) => connect(port, d, `${d.id}-pub-${i}`)));
  let acked = 0;
  let refused = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          let inflight = 0;
          let n = 0;
          const d = devices[i] as Device;
          const fire = () => {
            if (performance.now() >= end) {
              if (inflight === 0) resolve();
              return;
            }
            inflight++;
            c.publish(topicOf(d, n++), 'x', { qos: 1 }, (err) => {
              inflight--;
              if (err) refused++;
              else acked++;
              fire();
            });
          };
          for (let k = 0; k < window; k++) fire();
        }),
    ),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.endAsync(true)));
  if (refused > 0)
    throw new Error(`${refused} publishes refused: the bench devices must be allowed`);
  return acked / elapsed;
}

/** Connect + disconnect of known devices on `lanes` lanes for `seconds`; connects per second. */
export async function connectRate(
  port: number,
  devices: Device[],
  seconds: number,
  lanes: number,
): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let k = lane; performance.now() < end; k += lanes) {
        const d = devices[k % devices.length] as Device;
        const c = await connect(port, d, `${d.id}-con-${lane}`);
        done++;
        await c.endAsync(true);
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Every device connects (and disconnects) once: the plugin's cache learns their logins. */
export async function connectEach(port: number, devices: Device[], lanes: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let k = next++; k < devices.length; k = next++) {
        const d = devices[k] as Device;
        await (await connect(port, d, `${d.id}-warm-${lane}`)).endAsync(true);
      }
    }),
  );
}

/**
 * One revocation: `device` connected and warm, `revoke()` through the API; ms from the API's
 * answer (as this process received it) to the client's connection closing. 0 when the close
 * reached us first.
 */
export async function revocationMs(
  port: number,
  device: Device,
  revoke: () => Promise<Answer>,
): Promise<number> {
  const c = await connect(port, device, `${device.id}-rv`);
  await c.publishAsync(`${device.id}/warm`, 'x', { qos: 1 });
  let closedAt = 0;
  const closed = new Promise<void>((r) =>
    c.once('close', () => {
      closedAt = performance.now();
      r();
    }),
  );
  const answer = await revoke();
  const answeredAt = performance.now();
  if (answer.status >= 300) throw new Error(`revoke answered ${answer.status}: ${answer.body}`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise((_, reject) => {
      // 2.1 without websockets sleeps up to 5 s before it ticks the plugin: room for that
      timer = setTimeout(() => reject(new Error(`${device.id} not disconnected in 15 s`)), 15_000);
    }),
  ]);
  clearTimeout(timer);
  c.end(true);
  return Math.max(0, closedAt - answeredAt);
}
