// Every change script goes out here, with its WAIT for the replicas on the same connection.
//
// Redis Cluster: the script and its WAIT are one pipeline (they must share a connection: WAIT
// counts that connection's writes). ioredis follows MOVED/ASK in a pipeline only when every
// command in it failed alike (Pipeline.fillResult in ioredis 5); after a promotion the script
// gets MOVED while WAIT succeeds on the node it reached, so ioredis neither redirects nor
// refreshes its slot map, and the write fails for good. A script refused with a redirect or a
// cluster-state error was not applied: here the slot map is refreshed and the write sent again.
//
// WAIT blocks its connection until the replicas confirm or the timeout: a write that waits
// holds one connection of a small pool, so writes never queue behind each other's WAIT.
import { Cluster, type ChainableCommander } from 'ioredis';
import { StoreUnavailableError, writeOutcomeUnknown } from '../errors';
import { APPEND_AUDIT } from './audit-script';
import { waitReady, type RedisClient } from './redis-client';
import {
  DELETE_USER,
  REPLACE_HASH,
  SET_COMMON,
  TOUCH,
  WRITE_USER,
  type ScriptReply,
} from './scripts';

export interface DurabilityOptions {
  /** Replicas that must confirm a write (Redis WAIT) before it is acknowledged; 0: none. */
  minReplicasAck: number;
  waitTimeoutMs: number;
  /** Opens one more writer connection (one per concurrent WAIT, up to MAX_WRITERS). */
  connect?: () => RedisClient;
  /** How long a write refused by a moving cluster (MOVED, CLUSTERDOWN…) is sent again. */
  retryForMs?: number;
}

const MAX_WRITERS = 16;

const SCRIPTS = {
  writeUser: { numberOfKeys: 5, lua: WRITE_USER },
  deleteUser: { numberOfKeys: 5, lua: DELETE_USER },
  setCommon: { numberOfKeys: 4, lua: SET_COMMON },
  replaceHash: { numberOfKeys: 4, lua: REPLACE_HASH },
  touch: { numberOfKeys: 1, lua: TOUCH },
  appendAudit: { numberOfKeys: 1, lua: APPEND_AUDIT },
};
export type ScriptName = keyof typeof SCRIPTS;

export function defineScripts(c: RedisClient): void {
  for (const [name, def] of Object.entries(SCRIPTS)) c.defineCommand(name, def);
}

export interface ScriptResult {
  reply: ScriptReply;
  /** Replicas that confirmed; null when none were asked for. */
  acked: number | null;
}

/** Refused before anything was applied: the write may be sent again. */
const REFUSED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) |^Cluster isn't ready|^Stream isn't writeable/;
/** Sent, answer lost: it may have been applied. */
const LOST = /^(Connection is closed|Command timed out)|MaxRetriesPerRequest/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ScriptWriter {
  private readonly idle: RedisClient[];
  private readonly extra: RedisClient[] = [];
  private readonly waiting: ((c: RedisClient) => void)[] = [];
  /** Slots (bucket numbers, `common`) whose last write failed, with why and since when. */
  readonly failing = new Map<string, { since: number; error: string }>();

  constructor(
    private readonly main: RedisClient,
    readonly durability: DurabilityOptions,
  ) {
    defineScripts(main);
    // Pooled, `main` (which also carries the export's reads) never holds a WAIT.
    this.idle = this.pooled ? [] : [main];
  }

  private get pooled(): boolean {
    return this.durability.minReplicasAck > 0 && this.durability.connect !== undefined;
  }

  private async lease(): Promise<RedisClient> {
    if (!this.pooled) return this.main;
    const c = this.idle.pop();
    if (c) return c;
    if (this.extra.length < MAX_WRITERS && this.durability.connect) {
      const n = this.durability.connect();
      defineScripts(n);
      this.extra.push(n);
      await waitReady(n, 2000).catch(() => undefined);
      return n;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(c: RedisClient): void {
    if (!this.pooled) return;
    const next = this.waiting.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  /** Runs `name` (then WAIT when replicas must confirm); `slot` names the slot for /readyz. */
  async run(name: ScriptName, args: string[], slot: string): Promise<ScriptResult> {
    const { minReplicasAck, waitTimeoutMs, retryForMs = 3000 } = this.durability;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const client = await this.lease();
      let out: [Error | null, unknown][];
      try {
        const p = client.pipeline() as ChainableCommander &
          Record<ScriptName, (...a: string[]) => ChainableCommander>;
        p[name](...args);
        if (minReplicasAck > 0) p.wait(minReplicasAck, waitTimeoutMs);
        out = (await p.exec()) ?? [[new Error('pipeline aborted'), null]];
      } catch (err) {
        out = [[err as Error, null]];
      } finally {
        this.release(client);
      }
      const [err, reply] = out[0] ?? [new Error('no reply'), null];
      if (!err) {
        this.failing.delete(slot);
        const acked = minReplicasAck > 0 ? Number(out[1]?.[1] ?? 0) : null;
        return { reply: reply as ScriptReply, acked };
      }
      const refused = REFUSED.test(err.message);
      if (client instanceof Cluster) {
        // Bounded: ioredis times a refresh out (slotsRefreshTimeout), but never hang a write.
        await Promise.race([
          new Promise<void>((r) => client.refreshSlotsCache(() => r())),
          sleep(1500),
        ]);
        if (refused && Date.now() - started < retryForMs) {
          await sleep(Math.min(50 * 2 ** attempt, 400));
          continue;
        }
      }
      this.failing.set(slot, {
        since: this.failing.get(slot)?.since ?? Date.now(),
        error: err.message.split('\n')[0] ?? '',
      });
      if (LOST.test(err.message) && err.name !== 'ReplyError')
        throw writeOutcomeUnknown(err.message);
      throw new StoreUnavailableError(err);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.extra.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
