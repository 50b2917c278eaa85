// What the service asks of the store besides data: is it reachable, which primaries answer,
// is an earlier key layout still there (and moving it). Health and startup use this, never a
// Redis client.
import type { MigrateProgress, MigrateReport } from './migrate-store';
import type { PrimaryStatus } from './redis-client';

export interface StoreHealth {
  /** Where the store is, for messages (`redis://host:6379`, `sentinel …`); no secrets. */
  readonly where: string;
  /** Resolves once every connection is ready; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** The topology and the primaries that answer now (none when it cannot be asked). */
  primaries(): Promise<PrimaryStatus>;
  /** Whether anything of the layout before index buckets is left (serve refuses to start). */
  legacyLayout(): Promise<boolean>;
  /** Moves an earlier layout into today's (`mqtt-authd migrate-store`). */
  migrate(progress?: MigrateProgress): Promise<MigrateReport>;
}
