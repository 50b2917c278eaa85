// What the last reload did, for GET /api/v1/export, /readyz and the metrics. A broker that is
// not running yet is not an export failure (it reads the files when it starts); a broker that
// quit after our SIGHUP is, until a broker runs at the pid file again, reported everywhere.
import type { Logger } from '../logger';
import type { Metrics } from '../ops/metrics';
import { watchPid, type ReloadOutcome, type Reloader } from './reload';

export type ReloadState =
  /** MOSQUITTO_RELOAD=none */
  | 'off'
  /** no export has changed a file since the start */
  | 'none-yet'
  /** SIGHUP sent; watching that the broker keeps running */
  | 'checking'
  | 'ok'
  /** files written, no broker at the pid file (not started yet): not a failure */
  | 'no-broker'
  /** the broker quit after the SIGHUP (Mosquitto 2.1 refusing a file or its config) */
  | 'broker-died'
  /** the reload could not be carried out (bad pid file, failing command): retried */
  | 'failed';

export interface ReloadStatus {
  state: ReloadState;
  at: string | null;
  pid: number | null;
  message: string | null;
}

export interface ReloadTrackerDeps {
  reloader: Reloader | null;
  /** MOSQUITTO_RELOAD_CHECK_MS; 0: a SIGHUP counts as good without watching. */
  checkMs: number;
  logger: Logger;
  metrics?: Metrics;
}

const DIED_HINT =
  'it refused the reloaded files or its configuration. Its log says which: the line before ' +
  '"mosquitto version … terminating" (Mosquitto 2.1: "Error: Invalid ACL topic …" or ' +
  '"password-file: Error: …"). /readyz answers 503 until a broker runs at the pid file again';

export class ReloadTracker {
  readonly status: ReloadStatus;
  /** The watch of the latest SIGHUP, for callers that want its verdict. */
  watching: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(private readonly deps: ReloadTrackerDeps) {
    this.status = { state: deps.reloader ? 'none-yet' : 'off', at: null, pid: null, message: null };
  }

  get brokerDied(): boolean {
    return this.status.state === 'broker-died';
  }

  /** The reload could not be carried out: the caller counts the export as failed. */
  failed(message: string): void {
    this.seq++;
    this.set('failed', null, `files written; reload failed: ${message}`);
    this.deps.metrics?.brokerReloads.labels('failed').inc();
  }

  /** What the reloader said; a SIGHUP starts a watch of the pid (see `watching`). */
  record(outcome: ReloadOutcome): void {
    const { logger, metrics, checkMs } = this.deps;
    if (outcome.kind === 'no-broker') {
      metrics?.brokerReloads.labels('no-broker').inc();
      // Still none since one died: keep saying so (a restart clears it, see recheck). And
      // none while the last SIGHUP's watch runs: the broker we signalled is gone, which that
      // watch reports as a death (a burst of exports must not turn it into "not started yet").
      if (this.brokerDied || this.status.state === 'checking') return;
      this.seq++;
      const message = `files written; reload failed (no broker at that pid file yet): ${outcome.message}`;
      this.set('no-broker', null, message);
      logger.warn({ reload: outcome.message }, message);
      return;
    }
    const seq = ++this.seq;
    if (outcome.kind === 'ran' || checkMs === 0) {
      this.set('ok', outcome.kind === 'signalled' ? outcome.pid : null, outcome.message);
      metrics?.brokerReloads.labels('ok').inc();
      logger.info({ reload: outcome.message }, 'broker told to reload');
      return;
    }
    const { pid } = outcome;
    this.set('checking', pid, `${outcome.message}; checking it keeps running for ${checkMs} ms`);
    this.watching = watchPid(pid, checkMs).then((goneAfterMs) => {
      if (seq !== this.seq) return; // a later reload speaks for the broker now
      if (goneAfterMs === null) {
        this.set('ok', pid, `${outcome.message}; still running ${checkMs} ms later`);
        metrics?.brokerReloads.labels('ok').inc();
        logger.info({ pid }, 'broker reloaded and still running');
        return;
      }
      const message = `files written; the broker (pid ${pid}) exited within ${goneAfterMs + 50} ms of SIGHUP: ${DIED_HINT}`;
      this.set('broker-died', pid, message);
      metrics?.brokerReloads.labels('died').inc();
      logger.error({ pid }, message);
    });
  }

  /** After a death: has a broker started at the pid file since? Then the state clears. */
  async recheck(): Promise<boolean> {
    if (!this.brokerDied || !this.deps.reloader?.runningPid) return !this.brokerDied;
    const pid = await this.deps.reloader.runningPid();
    if (pid === null || !this.brokerDied) return !this.brokerDied;
    this.seq++;
    this.set('ok', pid, `a broker runs at the pid file again (pid ${pid})`);
    this.deps.logger.info({ pid }, 'a broker runs at the pid file again');
    return true;
  }

  private set(state: ReloadState, pid: number | null, message: string): void {
    Object.assign(this.status, { state, pid, message, at: new Date().toISOString() });
    this.deps.metrics?.brokerDied.set(state === 'broker-died' ? 1 : 0);
  }
}
