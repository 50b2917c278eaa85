// The two loads of bench/plugin.ts where the broker checks more than the publisher: fanout
// (every message delivered to one `bench/#` subscriber, a read check per topic) and the
// reconnect storm (a fresh broker taking back many known devices at once).
import type { MqttClient } from 'mqtt';
import { sleep } from '../test/support/http';
import { connect, publishRate, type Device } from './plugin-load';

export interface FanoutResult {
  /** Messages the subscriber received per second (first publish → last message). */
  received: number;
  /** Publishes acknowledged per second meanwhile. */
  published: number;
}

/** `publishers` publish a new topic per message under `bench/<id>/`; `backend` reads `bench/#`. */
export async function fanoutRate(
  port: number,
  backend: Device,
  publishers: Device[],
  seconds: number,
  window: number,
): Promise<FanoutResult> {
  const sub = await connect(port, backend, `${backend.id}-fanout`);
  try {
    const granted = await sub.subscribeAsync('bench/#', { qos: 1 });
    if (granted[0]?.qos !== 1) throw new Error(`bench/# not granted: ${JSON.stringify(granted)}`);
    let received = 0;
    let last = 0;
    sub.on('message', () => {
      received++;
      last = performance.now();
    });
    const started = performance.now();
    const published = await publishRate(port, publishers, seconds, window, (d, n) => `bench/${d.id}/${n}`); // prettier-ignore
    // what the broker still has queued for the subscriber arrives after the publishers stop
    for (let seen = -1; seen !== received;) {
      seen = received;
      await sleep(300);
    }
    if (received === 0) throw new Error('the bench/# subscriber received nothing');
    return { received: received / ((last - started) / 1000), published };
  } finally {
    await sub.endAsync(true);
  }
}

/**
 * Every device connects at once (at most `inFlight` CONNECTs outstanding) and stays connected;
 * CONNACKs per second from the first CONNECT to the last CONNACK. Any refusal throws.
 */
export async function stormRate(
  port: number,
  devices: Device[],
  inFlight: number,
): Promise<number> {
  const clients: MqttClient[] = [];
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: Math.min(inFlight, devices.length) }, async () => {
        for (let k = next++; k < devices.length; k = next++) {
          const d = devices[k] as Device;
          clients.push(await connect(port, d, `${d.id}-storm`));
        }
      }),
    );
    return devices.length / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
  }
}
