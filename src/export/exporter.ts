// Keeps the passwd file and acl_file in step with Redis. Changes (from any replica, via the
// change feed) are debounced: the export runs EXPORT_DEBOUNCE_MS after the last change, and
// never later than EXPORT_MAX_DELAY_MS after the first. Failures keep the change pending and
// retry with backoff; Redis keeps every write whatever happens here.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../ops/metrics';
import type { CredentialStore } from '../store/credential-store';
import { removeStaleTemps, type FileOptions } from './atomic-file';
import { reloadFailed } from '../errors';
import type { ReloadOutcome, Reloader } from './reload';
import { ReloadTracker, type ReloadStatus } from './reload-tracker';
import { writeFiles, type Tally } from './write-files';

/** The export's state, and what the last run wrote and left out (Tally, users null before). */
export interface ExportStatus extends Omit<Tally, 'users'> {
  users: number | null;
  enabled: boolean;
  pending: boolean;
  running: boolean;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
  lastDurationMs: number | null;
  lastRevision: number | null;
  consecutiveFailures: number;
  /** What the last MOSQUITTO_RELOAD did; its failure to find a broker is not an export failure. */
  reload: ReloadStatus;
}

export interface ExporterDeps {
  config: Pick<
    Config,
    | 'PASSWD_FILE'
    | 'ACL_FILE'
    | 'EXPORT_FILE_MODE'
    | 'EXPORT_OWNER'
    | 'EXPORT_DEBOUNCE_MS'
    | 'EXPORT_MAX_DELAY_MS'
    | 'PASSWD_MAX_ITERATIONS'
    | 'MOSQUITTO_RELOAD_CHECK_MS'
  >;
  store: CredentialStore;
  reloader: Reloader | null;
  logger: Logger;
  metrics?: Metrics;
}

const MAX_BACKOFF_MS = 60_000;

export class Exporter {
  private timer: NodeJS.Timeout | null = null;
  private firstChangeAt = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private reloadOwed = false;
  private forceOwed = false;
  /** After a failure, changes do not bring the retry forward (backoff holds). */
  private retryAt = 0;
  private stopped = false;
  private readonly fileOpts: FileOptions;
  private readonly reloads: ReloadTracker;
  readonly status: ExportStatus = {
    enabled: false,
    pending: false,
    running: false,
    lastSuccessAt: null,
    lastErrorAt: null,
    lastError: null,
    lastDurationMs: null,
    lastRevision: null,
    users: null,
    skipped: {},
    damaged: [],
    unloadable: [],
    rulesLeftOut: 0,
    consecutiveFailures: 0,
    reload: { state: 'off', at: null, pid: null, message: null },
  };

  constructor(private readonly deps: ExporterDeps) {
    const { PASSWD_FILE, ACL_FILE, EXPORT_FILE_MODE, EXPORT_OWNER } = deps.config;
    this.status.enabled = Boolean(PASSWD_FILE || ACL_FILE);
    const [uid, gid] = EXPORT_OWNER ? EXPORT_OWNER.split(':').map(Number) : [];
    this.fileOpts = { mode: EXPORT_FILE_MODE, uid, gid };
    this.reloads = new ReloadTracker({
      reloader: deps.reloader,
      checkMs: deps.config.MOSQUITTO_RELOAD_CHECK_MS,
      logger: deps.logger,
      metrics: deps.metrics,
    });
    this.status.reload = this.reloads.status;
  }

  get healthy(): boolean {
    return !this.status.enabled || this.status.consecutiveFailures < 3;
  }

  /** For /readyz: null, or why the broker is in trouble (it quit after our last SIGHUP). */
  async brokerProblem(): Promise<string | null> {
    return (await this.reloads.recheck()) ? null : 'died after the last reload';
  }

  /** Something changed: export soon (debounced, bounded delay). */
  changed(): void {
    if (!this.status.enabled || this.stopped) return;
    const now = Date.now();
    if (!this.status.pending) this.firstChangeAt = now;
    this.status.pending = true;
    this.deps.metrics?.exportPending.set(1);
    if (this.running) {
      this.again = true;
      return;
    }
    const { EXPORT_DEBOUNCE_MS, EXPORT_MAX_DELAY_MS } = this.deps.config;
    const due = Math.max(
      this.retryAt,
      Math.min(now + EXPORT_DEBOUNCE_MS, this.firstChangeAt + EXPORT_MAX_DELAY_MS),
    );
    this.schedule(Math.max(0, due - now));
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run(false);
    }, ms);
  }

  /** Exports now (waiting for a run in progress). `force` ignores the up-to-date marker. */
  async run(force = true): Promise<void> {
    if (!this.status.enabled) return;
    while (this.running) await this.running;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
    this.running = this.attempt(force).finally(() => {
      this.running = null;
      this.status.running = false;
    });
    await this.running;
    // An explicit run (POST /export, the CLI) answers with what the reload did.
    if (force) await this.reloads.watching;
    if (this.again && !this.stopped) this.changed();
  }

  /** Stops scheduling (retries included); a run in progress finishes. */
  cancel(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** For shutdown: cancel the timer and write what is pending now. */
  async flush(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await this.running;
    if (this.status.pending) await this.attempt(false);
  }

  private async attempt(force: boolean): Promise<void> {
    this.status.running = true;
    this.status.pending = false;
    const started = Date.now();
    try {
      const { result, outcome } = await this.exportLocked(force || this.forceOwed);
      if (outcome) this.reloads.record(outcome);
      this.forceOwed = false;
      this.status.lastSuccessAt = new Date().toISOString();
      this.status.lastDurationMs = Date.now() - started;
      this.status.consecutiveFailures = 0;
      this.status.lastError = null;
      this.retryAt = 0;
      this.deps.metrics?.exportRuns.labels(result).inc();
      this.deps.metrics?.exportSeconds.observe((Date.now() - started) / 1000);
      if (!this.status.pending) this.deps.metrics?.exportPending.set(0);
    } catch (err) {
      const message = (err as Error).message;
      this.forceOwed ||= force;
      this.status.pending = true;
      this.status.lastErrorAt = new Date().toISOString();
      this.status.lastError = message;
      this.status.consecutiveFailures++;
      this.deps.metrics?.exportRuns.labels('error').inc();
      const backoff = Math.min(
        MAX_BACKOFF_MS,
        500 * 2 ** Math.min(this.status.consecutiveFailures, 10),
      );
      this.deps.logger.error(
        { err: message, retryInMs: backoff },
        'export failed; Redis is unaffected, will retry',
      );
      this.retryAt = Date.now() + backoff;
      if (!this.stopped) this.schedule(backoff);
    }
  }

  private markerPath(): string {
    const target = this.deps.config.PASSWD_FILE || this.deps.config.ACL_FILE;
    return `${dirname(target)}/.mqtt-authd-export.json`;
  }

  /** Serialised across processes sharing the files (a lock directory beside them). */
  private async exportLocked(
    force: boolean,
  ): Promise<{ result: 'ok' | 'skipped'; outcome: ReloadOutcome | null }> {
    const { PASSWD_FILE, ACL_FILE } = this.deps.config;
    const target = PASSWD_FILE || ACL_FILE;
    await mkdir(dirname(target), { recursive: true });
    let lost: Error | null = null;
    const release = await lockfile.lock(target, {
      realpath: false,
      // Lock refresh late by > 10 s (a stalled event loop) or taken over as stale: abandon this
      // run before it renames anything (the default handler throws from a timer and kills us).
      onCompromised: (err) => {
        lost = err;
        this.deps.logger.warn({ err: err.message }, 'export lock lost; abandoning this run');
      },
      // A SIGKILLed holder's lock counts as stale after 10 s (the holder refreshes it every 5 s).
      stale: 10_000,
      retries: { retries: 100, minTimeout: 50, maxTimeout: 1000 },
    });
    try {
      if (force) await Promise.all([PASSWD_FILE, ACL_FILE].filter(Boolean).map(removeStaleTemps));
      const revision = await this.deps.store.revision();
      if (!force && !this.reloadOwed && (await this.upToDate(revision)))
        return { result: 'skipped', outcome: null };
      const changed = await this.writeFiles(revision, () => lost);
      await writeFile(this.markerPath(), JSON.stringify({ revision }) + '\n', { mode: 0o600 });
      const outcome = changed || this.reloadOwed ? await this.reload() : null;
      return { result: 'ok', outcome };
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async upToDate(revision: number): Promise<boolean> {
    try {
      const marker = JSON.parse(await readFile(this.markerPath(), 'utf8')) as { revision?: number };
      return typeof marker.revision === 'number' && marker.revision >= revision;
    } catch {
      return false;
    }
  }

  /**
   * Tells the broker; a missing broker is an outcome (it reads the files when it starts), a
   * reload that could not be carried out is an error: the export is retried, reload included.
   */
  private async reload(): Promise<ReloadOutcome | null> {
    if (!this.deps.reloader) return null;
    this.reloadOwed = true;
    try {
      const outcome = await this.deps.reloader.reload();
      this.reloadOwed = false;
      return outcome;
    } catch (err) {
      const why = (err as Error).message;
      this.reloads.failed(why);
      throw reloadFailed(`files written; reload failed: ${why}`);
    }
  }

  /** Both files in one pass over Redis; returns whether either file's content changed. */
  private async writeFiles(revision: number, lockLost: () => Error | null): Promise<boolean> {
    const { changed, tally } = await writeFiles({
      passwdFile: this.deps.config.PASSWD_FILE,
      aclFile: this.deps.config.ACL_FILE,
      fileOpts: this.fileOpts,
      store: this.deps.store,
      maxIterations: this.deps.config.PASSWD_MAX_ITERATIONS,
      lockLost,
    });
    Object.assign(this.status, tally, { lastRevision: revision });
    const { skipped, users, unloadable, rulesLeftOut } = tally;
    if (Object.keys(skipped).length)
      this.deps.logger.info({ skipped, users }, 'export left some users out');
    if (unloadable.length)
      this.deps.logger.warn(
        { rulesLeftOut, unloadable: unloadable.slice(0, 10) },
        'export left out what Mosquitto 2.1 would refuse (it quits on such lines)',
      );
    return changed;
  }
}
