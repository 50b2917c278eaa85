// A k-way merge of the per-bucket sorted indexes: names in byte order after a cursor, reading
// each bucket a chunk at a time, so memory stays at buckets × chunk names whatever the total.
// `fetch(bucket, after, count)` answers up to `count` names greater than `after` (null: from
// the start), in byte order; fewer than `count` means the bucket has no more.

export type FetchNames = (bucket: number, after: string | null, count: number) => Promise<string[]>;

interface Head {
  bucket: number;
  names: string[];
  /** The same names as UTF-8: ZRANGEBYLEX's byte order differs from UTF-16's above U+FFFF. */
  bytes: Buffer[];
  at: number;
  done: boolean;
  last: string | null;
  /** When the bucket was last read (a sequence number over all reads of this merge). */
  seq: number;
}

const less = (a: Head, b: Head) => Buffer.compare(a.bytes[a.at]!, b.bytes[b.at]!) < 0;

export class IndexMerge {
  private readonly heads: Head[] = [];
  /** Min-heap of the heads that hold a name, by that name. */
  private heap: Head[] = [];
  private started = false;
  private seq = 0;
  /** The read that produced the last name handed out. */
  private emittedSeq = 0;

  constructor(
    buckets: number,
    private readonly fetch: FetchNames,
    after: string | null,
    private readonly chunk: number,
  ) {
    for (let b = 0; b < buckets; b++) {
      this.heads.push({ bucket: b, names: [], bytes: [], at: 0, done: false, last: after, seq: 0 });
    }
  }

  private async refill(h: Head, seq = ++this.seq): Promise<void> {
    h.seq = seq;
    h.names = await this.fetch(h.bucket, h.last, this.chunk);
    h.bytes = h.names.map((n) => Buffer.from(n, 'utf8'));
    h.at = 0;
    h.done = h.names.length < this.chunk;
    h.last = h.names[h.names.length - 1] ?? h.last;
  }

  private push(h: Head): void {
    const heap = this.heap;
    heap.push(h);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  }

  private pop(): Head | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Up to `limit` next names in byte order; fewer only at the end. */
  async next(limit: number): Promise<string[]> {
    if (!this.started) {
      this.started = true;
      const seq = ++this.seq;
      await Promise.all(this.heads.map((h) => this.refill(h, seq)));
      for (const h of this.heads) if (h.names.length > 0) this.push(h);
    }
    const out: string[] = [];
    while (out.length < limit) {
      // A bucket found empty before the next name was read may have gained names below it
      // since (a device added meanwhile): read it again first. Then a device added before
      // another is never listed without it, as with one index; the re-reads stop once the
      // exhausted buckets are newer than every name still to come.
      const top = this.heap[0];
      const stale = this.heads.filter(
        (h) => h.done && h.at >= h.names.length && h.seq < (top?.seq ?? this.emittedSeq),
      );
      if (stale.length > 0) {
        const seq = ++this.seq;
        await Promise.all(stale.map((h) => this.refill(h, seq)));
        for (const h of stale) if (h.names.length > 0) this.push(h);
        continue;
      }
      const h = this.pop();
      if (!h) break;
      this.emittedSeq = Math.max(this.emittedSeq, h.seq);
      out.push(h.names[h.at++]!);
      // A bucket that ran dry is read again before its next name can be compared.
      if (h.at >= h.names.length && !h.done) await this.refill(h);
      if (h.at < h.names.length) this.push(h);
    }
    return out;
  }
}

/** Chunk per bucket for pages of `limit`: about twice a fair share, at least 8. */
export const chunkFor = (limit: number, buckets: number) =>
  Math.max(8, Math.ceil((2 * limit) / buckets));
