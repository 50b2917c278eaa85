// `--idempotency-key` for the CLI's device writes: the same records as the API's header, so a
// job runner that re-runs a command after a timeout gets the first run's output (a generated
// password included) instead of a second device or a second rotation.
import type { AppContext } from '../context';
import { IdempotencyGate, runIdempotent } from '../devices/idempotency-gate';

/** The first run's output for `key` (or this run's); `parts` say what makes two runs the same. */
export async function idempotentCli<T>(
  ctx: AppContext,
  key: string | undefined,
  parts: readonly string[],
  run: () => Promise<T>,
  output: (v: T) => Record<string, unknown>,
): Promise<unknown> {
  const gate = new IdempotencyGate({
    records: ctx.idempotency,
    store: ctx.store,
    durability: {
      minReplicasAck: ctx.config.REDIS_MIN_REPLICAS_ACK,
      waitTimeoutMs: ctx.config.REDIS_WAIT_TIMEOUT_MS,
    },
    logger: ctx.logger.child({ name: 'authd:cli' }),
  });
  const answer = await runIdempotent(
    gate,
    key,
    ['cli', ...parts],
    run,
    (v) => ({ status: 200, body: output(v) }),
    (a) => {
      const b = a.body as { id?: string; updatedAt?: string };
      return { id: b.id ?? '', updatedAt: b.updatedAt ?? null };
    },
  );
  return answer.body;
}
