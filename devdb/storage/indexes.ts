import { DevDbError, ErrorCode } from '../errors.js';
import { collatedKeyOf, parseCollation, type Collation } from '../query/collation.js';
import { valuesAtPath } from '../query/compare.js';
import { Matcher } from '../query/match.js';
import { isPlainObject, keyOf, toNumber, type Doc } from '../query/values.js';
import type { Rec } from './record.js';
import { OrderedKeys, type Bound } from './orderedKeys.js';

export interface IndexSpec {
  v: number;
  key: Doc;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Doc;
  collation?: Doc;
  [option: string]: unknown;
}

type Bucket = Rec | Set<Rec>;
const SEP = '\u0001';
/** An empty array is indexed as one key of its own (MongoDB indexes it as undefined). */
const EMPTY_ARRAY: unique symbol = Symbol('emptyArray');
const EMPTY_ARRAY_KEY = 'U';

export function defaultIndexName(key: Doc): string {
  return Object.entries(key).map(([k, v]) => `${k}_${typeof v === 'string' ? v : toNumber(v)}`).join('_');
}

/**
 * An in-memory index: one hash map per key prefix (a, a+b, a+b+c), so equality and $in lookups on any
 * prefix of a compound index are O(1). Ranges and sorts fall back to a scan (documented in README).
 *
 * The first prefix's map is always kept, and so is the full key's of a unique index (it checks
 * uniqueness); the others are built on the first lookup that needs them, then kept: every write pays
 * only for the prefixes some query uses, and an index whose longer prefixes are never asked for costs
 * one map instead of one per field.
 */
export class Index {
  readonly spec: IndexSpec;
  readonly fields: string[];
  /** text/2dsphere/2d indexes are kept as metadata only. */
  readonly usable: boolean;
  /** One map per prefix length (index 0: the first field); undefined until a lookup needs it. */
  private readonly maps: Array<Map<string, Bucket> | undefined>;
  /** Every indexed field is a top-level field: a document whose values there are not arrays is keyed without paths. */
  private readonly topLevel: boolean;
  private readonly partial: Matcher | null;
  /** The index's collation: its string keys are that collation's equality keys. */
  readonly collation: Collation | undefined;
  private readonly keyOf: (v: unknown) => string;
  /** Some indexed document had an array in an indexed field. */
  multikey = false;
  /** The first field's distinct values in order; built on the first range or sort that needs it. */
  private ordered: OrderedKeys | null = null;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.usable = Object.values(spec.key).every((v) => typeof v !== 'string' || v === 'hashed');
    this.maps = this.usable ? this.fields.map((_, d) => (d === 0 || (spec.unique === true && d === this.fields.length - 1) ? new Map() : undefined)) : [];
    this.topLevel = this.fields.every((field) => !field.includes('.'));
    this.collation = parseCollation(spec.collation);
    const collation = this.collation;
    this.keyOf = collation ? (v) => collatedKeyOf(v, collation) : keyOf;
    this.partial = spec.partialFilterExpression ? new Matcher(spec.partialFilterExpression, collation ? { collation } : undefined) : null;
  }

  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** Sparse and partial indexes miss documents, so they only answer queries that exclude those documents. */
  get complete(): boolean {
    return !this.spec.sparse && !this.partial;
  }

  private covers(rec: Rec): boolean {
    if (this.partial && !this.partial.test(rec.doc, rec.wrapped)) return false;
    if (this.spec.sparse && this.fields.every((f) => valuesAtPath(rec.doc, f).every((v) => v === undefined))) return false;
    return true;
  }

  /** Index keys of one document for the first `depth` fields (arrays fan out: multikey). */
  private keys(doc: Doc, depth: number): Map<string, unknown[]> {
    if (depth === 1 && !this.fields[0].includes('.')) {
      const v = doc[this.fields[0]];
      if (!Array.isArray(v)) return new Map([[this.keyOf(v), [v]]]);
    }
    return this.keysByDepth(doc, depth)[depth - 1];
  }

  /** Keys for the first 1, 2, ... `depth` fields at once: each field's values are keyed once, not once per prefix. */
  private keysByDepth(doc: Doc, depth: number): Array<Map<string, unknown[]>> {
    const byDepth: Array<Map<string, unknown[]>> = [];
    let acc = new Map<string, unknown[]>([['', []]]);
    for (let i = 0; i < depth; i++) {
      const elements: unknown[] = [];
      for (const v of valuesAtPath(doc, this.fields[i])) {
        if (Array.isArray(v)) {
          this.multikey = true;
          if (v.length === 0) elements.push(EMPTY_ARRAY);
          else elements.push(...v);
        } else elements.push(v);
      }
      const perField = new Map<string, unknown>();
      for (const e of elements) perField.set(e === EMPTY_ARRAY ? EMPTY_ARRAY_KEY : this.keyOf(e), e === EMPTY_ARRAY ? [] : e);
      const next = new Map<string, unknown[]>();
      for (const [k, vals] of acc) {
        for (const [fk, fv] of perField) next.set(i === 0 ? fk : k + SEP + fk, [...vals, fv]);
      }
      acc = next;
      byDepth.push(acc);
    }
    return byDepth;
  }

  /** The keys of every prefix of the index, the full key last. */
  private allKeys(doc: Doc): Array<Map<string, unknown[]>> {
    return this.fields.length === 1 ? [this.keys(doc, 1)] : this.keysByDepth(doc, this.fields.length);
  }

  /**
   * The keys of every prefix, the full key last, for a document whose indexed fields are top-level
   * and hold no arrays (the usual case, keyed without building path lists); null for any other.
   */
  private scalarKeys(doc: Doc): string[] | null {
    if (!this.topLevel) return null;
    const keys: string[] = [];
    let key = '';
    for (let i = 0; i < this.fields.length; i++) {
      const v = doc[this.fields[i]];
      if (Array.isArray(v)) return null;
      key = i === 0 ? this.keyOf(v) : key + SEP + this.keyOf(v);
      keys.push(key);
    }
    return keys;
  }

  /** The document's indexed fields are top-level and hold no arrays: `scalarKeys` applies. */
  private scalarFields(doc: Doc): boolean {
    if (!this.topLevel) return false;
    for (const field of this.fields) if (Array.isArray(doc[field])) return false;
    return true;
  }

  /** How many leading indexed fields two documents with scalar indexed fields agree on. */
  private leadingAgreement(a: Doc, b: Doc): number {
    for (let i = 0; i < this.fields.length; i++) {
      const x = a[this.fields[i]];
      const y = b[this.fields[i]];
      if (x !== y && this.keyOf(x) !== this.keyOf(y)) return i;
    }
    return this.fields.length;
  }

  /**
   * How many prefixes (maps) keep their entries when one version of a document replaces another: those
   * below the first indexed field that changed. None for a sparse or partial index, where a change
   * may take the document out of the index altogether, nor for documents with array or nested keys.
   */
  private sharedPrefix(a: Doc, b: Doc): number {
    if (this.partial || this.spec.sparse || !this.scalarFields(a) || !this.scalarFields(b)) return 0;
    return this.leadingAgreement(a, b);
  }

  /** The map of prefix length `depth + 1`, built from the first field's map on first use. */
  private mapAt(depth: number): Map<string, Bucket> {
    let map = this.maps[depth];
    if (map) return map;
    map = new Map();
    this.maps[depth] = map;
    const seen = new Set<Rec>();
    for (const b of this.maps[0]!.values()) {
      for (const rec of b instanceof Set ? b : [b]) {
        if (seen.has(rec)) continue;
        seen.add(rec);
        const fast = this.scalarKeys(rec.doc);
        if (fast) this.put(map, fast[depth], rec, depth, undefined);
        else for (const [key] of this.keysByDepth(rec.doc, depth + 1)[depth]) this.put(map, key, rec, depth, undefined);
      }
    }
    return map;
  }

  private put(map: Map<string, Bucket>, key: string, rec: Rec, depth: number, value: unknown): void {
    const b = map.get(key);
    if (b === undefined) {
      map.set(key, rec);
      if (depth === 0 && this.ordered) this.ordered.insert({ value, key });
    }
    else if (b instanceof Set) b.add(rec);
    else if (b !== rec) map.set(key, new Set([b, rec]));
  }

  private take(map: Map<string, Bucket>, key: string, rec: Rec, depth: number, value: unknown): void {
    const b = map.get(key);
    let emptied = false;
    if (b === rec) { map.delete(key); emptied = true; }
    else if (b instanceof Set) {
      b.delete(rec);
      if (b.size === 1) map.set(key, b.values().next().value as Rec);
      else if (b.size === 0) { map.delete(key); emptied = true; }
    }
    if (emptied && depth === 0 && this.ordered) this.ordered.remove(value, key);
  }

  /** Throws DuplicateKey if adding `rec` would break uniqueness. */
  checkUnique(rec: Rec, ns: string): void {
    if (!this.unique || !this.usable || !this.covers(rec)) return;
    const full = this.mapAt(this.fields.length - 1);
    for (const [key, values] of this.keys(rec.doc, this.fields.length)) {
      const b = full.get(key);
      if (b === undefined || b === rec) continue;
      if (b instanceof Set && (b.size === 0 || (b.size === 1 && b.has(rec)))) continue;
      throw duplicateKeyError(ns, this, values);
    }
  }

  /**
   * Adds the record's keys. With `previous`, the document it replaces (whose keys were removed with
   * `remove(rec, previous, rec.doc)`): the prefixes the two share kept their entries and are skipped.
   */
  add(rec: Rec, previous?: Doc): void {
    if (!this.usable || !this.covers(rec)) return;
    const fast = this.scalarKeys(rec.doc);
    if (fast) {
      for (let d = previous ? this.sharedPrefix(previous, rec.doc) : 0; d < this.fields.length; d++) {
        const map = this.maps[d];
        if (map) this.put(map, fast[d], rec, d, rec.doc[this.fields[0]]);
      }
      return;
    }
    const keysByDepth = this.allKeys(rec.doc);
    for (let d = 0; d < this.fields.length; d++) {
      const map = this.maps[d];
      if (!map) continue;
      for (const [key, values] of keysByDepth[d]) this.put(map, key, rec, d, values[0]);
    }
  }

  /**
   * Removes the keys of `doc` (the record's document by default). With `next`, the document about to
   * replace it: the prefixes the two share keep their entries, so a write that changes a later field
   * of a compound index leaves the first field's (often large) buckets alone.
   */
  remove(rec: Rec, doc: Doc = rec.doc, next?: Doc): void {
    if (!this.usable) return;
    const fast = this.scalarKeys(doc);
    if (fast) {
      for (let d = next ? this.sharedPrefix(doc, next) : 0; d < this.fields.length; d++) {
        const map = this.maps[d];
        if (map) this.take(map, fast[d], rec, d, doc[this.fields[0]]);
      }
      return;
    }
    const keysByDepth = this.allKeys(doc);
    for (let d = 0; d < this.fields.length; d++) {
      const map = this.maps[d];
      if (!map) continue;
      for (const [key, values] of keysByDepth[d]) this.take(map, key, rec, d, values[0]);
    }
  }

  /** Whether an update from `before` to `after` changes this index's keys. */
  keysChanged(before: Doc, after: Doc): boolean {
    if (!this.usable) return false;
    if (this.partial) return true;
    if (this.scalarFields(before) && this.scalarFields(after)) return this.leadingAgreement(before, after) < this.fields.length;
    const a = [...this.keys(before, this.fields.length).keys()].join(SEP + SEP);
    const b = [...this.keys(after, this.fields.length).keys()].join(SEP + SEP);
    return a !== b;
  }

  /** Records whose first `values.length` fields equal one of the given value tuples. */
  lookup(tuples: unknown[][]): Rec[] {
    const depth = tuples[0].length;
    const map = this.mapAt(depth - 1);
    const out = new Set<Rec>();
    for (const t of tuples) {
      const b = map.get(t.map(this.keyOf).join(SEP));
      if (b === undefined) continue;
      if (b instanceof Set) for (const r of b) out.add(r);
      else out.add(b);
    }
    return [...out];
  }

  private bucketRecs(key: string, reverse: boolean): Rec[] {
    const b = this.maps[0]!.get(key);
    if (b === undefined) return [];
    if (!(b instanceof Set)) return [b];
    const recs = [...b].sort((x, y) => x.seq - y.seq);
    return reverse ? recs.reverse() : recs;
  }

  private orderedKeys(): OrderedKeys {
    if (!this.ordered) {
      const entries: Array<{ value: unknown; key: string }> = [];
      for (const [key, b] of this.maps[0]!) {
        const rec = b instanceof Set ? (b.values().next().value as Rec) : b;
        entries.push({ value: this.keys(rec.doc, 1).get(key)?.[0], key });
      }
      this.ordered = new OrderedKeys(entries);
    }
    return this.ordered;
  }

  /** Records whose first field lies between the bounds, in index order (like an IXSCAN). */
  *range(lower: Bound | undefined, upper: Bound | undefined, reverse = false): Generator<Rec> {
    const seen = this.multikey ? new Set<Rec>() : undefined;
    for (const { key } of this.orderedKeys().range(lower, upper, reverse)) {
      for (const rec of this.bucketRecs(key, reverse)) {
        if (seen) {
          if (seen.has(rec)) continue;
          seen.add(rec);
        }
        yield rec;
      }
    }
  }

  clear(): void {
    for (const m of this.maps) m?.clear();
    this.ordered = null;
  }
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(formatValue).join(', ')} ]`;
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'ObjectId') return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
  if (isPlainObject(v)) return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')} }`;
  return String(v);
}

export function duplicateKeyError(ns: string, index: Index, values: unknown[]): DevDbError {
  const keyValue: Doc = {};
  index.fields.forEach((f, i) => { keyValue[f] = values[i] === undefined ? null : values[i]; });
  const dup = index.fields.map((f, i) => `${f}: ${formatValue(values[i] === undefined ? null : values[i])}`).join(', ');
  const [db, ...coll] = ns.split('.');
  return new DevDbError(
    ErrorCode.DuplicateKey,
    `E11000 duplicate key error collection: ${db}.${coll.join('.')} index: ${index.name} dup key: { ${dup} }`,
    { keyPattern: index.spec.key, keyValue },
  );
}
