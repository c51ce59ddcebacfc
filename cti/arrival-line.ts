/**
 * Session ids in arrival order, for the in-memory store's routing lines. The
 * common moves are O(1): an arrival appends (sequence numbers only grow) and
 * an assignment takes the head. A removal elsewhere (a customer leaves) leaves
 * a tombstone, dropped when the cursor passes it; a customer put back (requeued,
 * offer declined, back from away) is inserted at its arrival place by binary search.
 */
export class ArrivalLine {
  private ids: string[] = [];
  private seqs: number[] = [];
  private start = 0;
  /** id -> seq of the ids in the line. */
  private readonly present = new Map<string, number>();
  /** Removed ids still in `ids` (tombstones). */
  private readonly gone = new Set<string>();

  get size(): number { return this.present.size; }

  add(id: string, seq: number): void {
    if (this.present.has(id)) return;
    this.present.set(id, seq);
    if (this.gone.delete(id)) return; // its tombstone is its place
    const last = this.seqs.length - 1;
    if (last < this.start || seq > this.seqs[last]!) {
      this.ids.push(id);
      this.seqs.push(seq);
      return;
    }
    let lo = this.start, hi = this.seqs.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (this.seqs[mid]! < seq) lo = mid + 1; else hi = mid; }
    this.ids.splice(lo, 0, id);
    this.seqs.splice(lo, 0, seq);
  }

  remove(id: string): void {
    if (!this.present.delete(id)) return;
    this.gone.add(id);
    while (this.start < this.ids.length && this.gone.delete(this.ids[this.start]!)) this.start++;
    if (this.start > 1024 && this.start * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.start);
      this.seqs = this.seqs.slice(this.start);
      this.start = 0;
    }
  }

  /** The first `count` ids with their arrival numbers. */
  first(count: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (let i = this.start; i < this.ids.length && out.length < count; i++) {
      const id = this.ids[i]!;
      if (!this.gone.has(id)) out.push([id, this.seqs[i]!]);
    }
    return out;
  }
}
