// CHECK_BODY_TIMEOUT_MS for every check at once: one sweep instead of a timer per request.
// setTimeout + clearTimeout cost ~400 ns a check (a Timeout object, a list insert and unlink),
// a Set add + delete ~70 ns. All share one timeout, so entries fall due in insertion order;
// the sweep runs every eighth of the timeout and cuts what has waited 9 sweeps: a body is cut
// between 1 and 1.125 × the timeout after its headers. Idle, the sweep stops.

const SLICES = 8;

export interface BodyWait {
  readonly since: number;
  readonly cut: () => void;
}

export class BodyDeadlines {
  private readonly waiting = new Set<BodyWait>();
  private sweeps = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly everyMs: number;

  constructor(timeoutMs: number) {
    this.everyMs = Math.max(5, Math.floor(timeoutMs / SLICES));
  }

  /** `cut` runs once the body has not completed in time, unless done() came first. */
  wait(cut: () => void): BodyWait {
    const w = { since: this.sweeps, cut };
    this.waiting.add(w);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.everyMs);
      this.timer.unref(); // never what keeps a process alive
    }
    return w;
  }

  done(w: BodyWait): void {
    this.waiting.delete(w);
  }

  private sweep(): void {
    this.sweeps++;
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    for (const w of this.waiting) {
      if (this.sweeps - w.since <= SLICES) break; // the rest came later
      this.waiting.delete(w);
      w.cut();
    }
  }
}
