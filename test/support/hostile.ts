// Hostile scenarios run at two sizes: small in `npm test` (CI), large in `npm run stress`
// (STRESS_SIZE=full). One code path; only the numbers differ.
export const FULL = process.env.STRESS_SIZE === 'full';

/** The CI or the full-size value of each knob. */
export const sized = <T>(ci: T, full: T): T => (FULL ? full : ci);

/** fast-check seed: FC_SEED replays a failure. */
export const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

/** Broken guarantees seen during the load, the first few of each kind, the rest counted. */
export class Faults {
  private readonly counts = new Map<string, number>();
  private readonly examples: string[] = [];

  add(kind: string, detail: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= 5) this.examples.push(`${kind}: ${detail}`);
  }

  /** Asserted empty at the end of every scenario. */
  list(): string[] {
    const more = [...this.counts].filter(([, n]) => n > 5).map(([k, n]) => `${k}: ${n - 5} more`);
    return [...this.examples, ...more];
  }
}

/** Prints a scenario's figures (the stress run's report; docs/guarantees.md quotes them). */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`${scenario} (${FULL ? 'full' : 'ci'} size)\n${JSON.stringify(figures, null, 2)}`);
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
