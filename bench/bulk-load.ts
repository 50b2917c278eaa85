// Fast bulk loader: writes devices straight into the store's layout (keys from
// src/store/keys.ts, fields encoded by src/store/records.ts), as raw pipelined HSET + ZADD on
// its own connection, a few batches in flight. Not the registration path (one Lua script
// and one PBKDF2 per device): devices reuse one precomputed `$7$` hash per password.
import type { Keys } from '../src/store/keys';
import { encodeFields } from '../src/store/records';
import { COMMON_RULES, deviceName, isSuperuser, ownRules, PASSWORD_COUNT } from './devices';
import { encodeCommand, RespPipe } from './resp-pipe';

/** Devices per batch: as many HSETs, plus one ZADD per index bucket carrying their names. */
const BATCH = 10_000;
const IN_FLIGHT = 3;

export interface LoadReport {
  devices: number;
  ms: number;
}

function encodeBatch(keys: Keys, from: number, to: number, hashes: readonly string[], now: string) {
  // The fields every device has alike are encoded once; `*N` counts them in.
  const same = encodeFields({
    disabled: false,
    clientIds: [],
    metadata: {},
    createdAt: now,
    updatedAt: now,
  });
  const sameResp = encodeCommand(same).replace(/^\*\d+\r\n/, '');
  const parts: string[] = [];
  const zadds = new Map<number, string[]>();
  for (let i = from; i < to; i++) {
    const name = deviceName(i);
    const own = encodeFields({
      hash: hashes[i % PASSWORD_COUNT] as string,
      superuser: isSuperuser(i),
      acl: ownRules(name),
    });
    const head = encodeCommand(['HSET', keys.user(name), ...own]);
    const argc = 2 + own.length + same.length;
    parts.push(head.replace(/^\*\d+/, `*${argc}`), sameResp);
    const b = keys.bucketOf(name);
    const zadd = zadds.get(b) ?? ['ZADD', keys.index(b)];
    zadd.push('0', name);
    zadds.set(b, zadd);
  }
  for (const zadd of zadds.values()) parts.push(encodeCommand(zadd));
  return { resp: parts.join(''), replies: to - from + zadds.size };
}

/** Loads devices 0 … count-1 and the common rules. `hashes[k]` is the hash of password k. */
export async function bulkLoad(
  redisUrl: string,
  keys: Keys,
  count: number,
  hashes: readonly string[],
): Promise<LoadReport> {
  const started = performance.now();
  const now = new Date().toISOString();
  const pipe = await RespPipe.open(redisUrl);
  try {
    await pipe.send(encodeCommand(['SET', keys.commonAcl, JSON.stringify(COMMON_RULES)]), 1);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const from = next;
        next = Math.min(count, from + BATCH);
        const { resp, replies } = encodeBatch(keys, from, next, hashes, now);
        await pipe.send(resp, replies);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    pipe.close();
  }
  return { devices: count, ms: performance.now() - started };
}
