import { compareValues, typeRank } from '../query/compare.js';

/** One distinct index key value, with its canonical key (the hash map key of its bucket). */
export interface OrderedEntry {
  value: unknown;
  key: string;
}

export interface Bound {
  value: unknown;
  inclusive: boolean;
}

const CHUNK = 256;

/**
 * The distinct values of an index's first field in BSON order: a list of sorted chunks, so inserts and
 * removals cost O(log n + chunk) and range scans walk neighbouring entries. Built on first use.
 */
export class OrderedKeys {
  private chunks: OrderedEntry[][] = [];

  constructor(entries: OrderedEntry[]) {
    entries.sort((a, b) => compareValues(a.value, b.value));
    for (let i = 0; i < entries.length; i += CHUNK) this.chunks.push(entries.slice(i, i + CHUNK));
  }

  /** Position of the first entry for which `pred` holds (pred is false...false, true...true). */
  private firstWhere(pred: (v: unknown) => boolean): [number, number] {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid];
      if (pred(chunk[chunk.length - 1].value)) hi = mid; else lo = mid + 1;
    }
    if (lo === this.chunks.length) return [lo, 0];
    const chunk = this.chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (pred(chunk[mid].value)) b = mid; else a = mid + 1;
    }
    return [lo, a];
  }

  insert(entry: OrderedEntry): void {
    if (this.chunks.length === 0) { this.chunks.push([entry]); return; }
    let [ci, i] = this.firstWhere((v) => compareValues(v, entry.value) > 0);
    if (ci === this.chunks.length) { ci = this.chunks.length - 1; i = this.chunks[ci].length; }
    const chunk = this.chunks[ci];
    chunk.splice(i, 0, entry);
    if (chunk.length > CHUNK * 2) this.chunks.splice(ci, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
  }

  remove(value: unknown, key: string): void {
    let [ci, i] = this.firstWhere((v) => compareValues(v, value) >= 0);
    while (ci < this.chunks.length) {
      const chunk = this.chunks[ci];
      for (; i < chunk.length; i++) {
        if (chunk[i].key === key) {
          chunk.splice(i, 1);
          if (chunk.length === 0) this.chunks.splice(ci, 1);
          return;
        }
        if (compareValues(chunk[i].value, value) !== 0) return;
      }
      ci++;
      i = 0;
    }
  }

  /**
   * Entries between the bounds, within the bound values' BSON type (MongoDB's type bracketing), in
   * ascending order or, with `reverse`, descending. With no bounds at all, every entry.
   */
  *range(lower: Bound | undefined, upper: Bound | undefined, reverse = false): Generator<OrderedEntry> {
    const bracket = lower ? typeRank(lower.value) : upper ? typeRank(upper.value) : undefined;
    const [sc, si] = lower
      ? this.firstWhere((v) => { const c = compareValues(v, lower.value); return lower.inclusive ? c >= 0 : c > 0; })
      : bracket !== undefined ? this.firstWhere((v) => typeRank(v) >= bracket) : [0, 0];
    const [ec, ei] = this.firstWhere((v) => {
      if (bracket !== undefined && typeRank(v) > bracket) return true;
      if (!upper) return false;
      const c = compareValues(v, upper.value);
      return c > 0 || (c === 0 && !upper.inclusive);
    });
    const before = (c: number, i: number): boolean => c < ec || (c === ec && i < ei);
    if (!reverse) {
      for (let c = sc, i = si; before(c, i); i++) {
        if (i >= this.chunks[c].length) { c++; i = -1; continue; }
        yield this.chunks[c][i];
      }
      return;
    }
    const atOrAfterStart = (c: number, i: number): boolean => c > sc || (c === sc && i >= si);
    let c = ec;
    let i = ei - 1;
    while (c >= 0) {
      if (i < 0) { c--; if (c < 0) break; i = this.chunks[c].length - 1; continue; }
      if (!atOrAfterStart(c, i)) return;
      yield this.chunks[c][i];
      i--;
    }
  }

  get size(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}
