import { calculateObjectSize, ObjectId, UUID } from 'bson';
import { DevDbError, ErrorCode } from '../errors.js';
import { describeUpdate } from '../query/diff.js';
import { holdsString, sameCollation, type Collation } from '../query/collation.js';
import type { Matcher } from '../query/match.js';
import { equalityConditions, rangeConditions, valueTuples } from '../query/planner.js';
import { idFirst } from '../query/update.js';
import { hasWrappedNumbers, keyOf, toNumber, type Doc } from '../query/values.js';
import { duplicateKeyError, Index, type IndexSpec } from './indexes.js';
import { compileValidation, type Validation } from './validation.js';
import { IdOrder } from './idOrder.js';
import { shareValues } from './interning.js';
import type { Rec } from './record.js';

export type ChangeEmitter = (coll: Collection, event: Doc) => void;
/** Told about a write that failed validation under `validationAction: 'warn'` (and was applied). */
export type ValidationWarner = (coll: Collection, errInfo: Doc) => void;

/** Per-write options from the command. */
export interface WriteOptions {
  /** `bypassDocumentValidation: true`. */
  bypassValidation?: boolean;
}

export interface QueryPlan {
  stage: 'IDHACK' | 'IXSCAN' | 'COLLSCAN';
  indexName?: string;
  keyPattern?: Doc;
  /** Set for a range scan: the field whose index order the candidates come in. */
  rangeField?: string;
}

const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };
/** A walk of the `_id` index over a range or in `_id` order. */
const ID_RANGE_PLAN: QueryPlan = { stage: 'IXSCAN', indexName: ID_INDEX.name, keyPattern: ID_INDEX.key, rangeField: '_id' };

/** Starts the key of every record whose `_id` is not a string keyed as itself. */
const OTHER_KEY = '\uFFFF';

/**
 * A record's key in `records`. A string `_id` is its own key, so storing a document copies nothing;
 * any other `_id` is its equality key (`keyOf`) behind a marker, and so is a string that begins with
 * the marker, which keeps the two kinds of keys apart.
 */
function recordKey(id: unknown): string {
  return typeof id === 'string' && !id.startsWith(OTHER_KEY) ? id : OTHER_KEY + keyOf(id);
}

/** One collection: documents in natural (insertion) order, its indexes, capped limits. */
export class Collection {
  readonly uuid = new UUID();
  readonly records = new Map<string, Rec>();
  private readonly idOrder = new IdOrder(this.records);
  readonly indexes: Index[] = [];
  private nextSeq = 1;
  private cappedBytes = 0;
  private insertWaiters = new Set<() => void>();
  /** The `ns` of change events, shared by all of them (rebuilt on rename). */
  private nsDoc: Doc;
  private validation: Validation | undefined;

  constructor(
    readonly db: string,
    private collName: string,
    readonly options: Doc,
    private readonly emit: ChangeEmitter,
    private readonly warn: ValidationWarner = () => undefined,
  ) {
    this.nsDoc = { db, coll: collName };
    this.validation = compileValidation(options);
    if (options.capped === true && options.size === undefined) {
      throw new DevDbError(ErrorCode.InvalidOptions, 'the size field is required when creating a capped collection');
    }
  }

  get name(): string {
    return this.collName;
  }

  set name(name: string) {
    this.collName = name;
    this.nsDoc = { db: this.db, coll: name };
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get capped(): boolean {
    return this.options.capped === true;
  }

  get size(): number {
    return this.records.size;
  }

  indexSpecs(): IndexSpec[] {
    return [ID_INDEX, ...this.indexes.map((i) => i.spec)];
  }

  /** Changes validator, validationLevel and/or validationAction (collMod); checked before anything changes. */
  setValidation(changes: Doc): void {
    const next = { ...this.options, ...changes };
    this.validation = compileValidation(next);
    Object.assign(this.options, changes);
  }

  private validate(doc: Doc, wrapped: boolean, before: Rec | undefined, options: WriteOptions | undefined): void {
    if (!this.validation || options?.bypassValidation) return;
    const warning = this.validation.check(doc, wrapped, before);
    if (warning) this.warn(this, warning);
  }

  findIndex(name: string): Index | undefined {
    return this.indexes.find((i) => i.name === name);
  }

  /** Builds an index over existing documents; a uniqueness violation aborts the build. */
  addIndex(spec: IndexSpec): void {
    const index = new Index(spec);
    for (const rec of this.records.values()) {
      index.checkUnique(rec, this.ns);
      index.add(rec);
    }
    this.indexes.push(index);
  }

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i >= 0) this.indexes.splice(i, 1);
  }

  insert(input: Doc, options?: WriteOptions): Rec {
    let doc = input;
    if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
    else doc = idFirst(doc);
    checkId(doc._id);
    const idKey = recordKey(doc._id);
    if (this.records.has(idKey)) throw duplicateKeyError(this.ns, new Index(ID_INDEX), [doc._id]);
    const wrapped = hasWrappedNumbers(doc);
    this.validate(doc, wrapped, undefined, options);
    shareValues(doc);
    const rec: Rec = { doc, wrapped, seq: this.nextSeq++, size: this.capped ? calculateObjectSize(doc) : 0 };
    for (const index of this.indexes) index.checkUnique(rec, this.ns);
    this.records.set(idKey, rec);
    this.idOrder.added(doc._id, idKey);
    for (const index of this.indexes) index.add(rec);
    this.emit(this, { operationType: 'insert', ns: this.nsDoc, documentKey: { _id: doc._id }, fullDocument: doc });
    if (this.capped) this.enforceCap(rec.size);
    if (this.insertWaiters.size > 0) {
      const ws = [...this.insertWaiters];
      this.insertWaiters.clear();
      ws.forEach((w) => w());
    }
    return rec;
  }

  private enforceCap(added: number): void {
    this.cappedBytes += added;
    const max = this.options.max !== undefined ? toNumber(this.options.max) : Infinity;
    const size = toNumber(this.options.size);
    for (const rec of this.records.values()) {
      if (this.records.size <= 1 || (this.records.size <= max && this.cappedBytes <= size)) break;
      this.unlink(rec);
    }
  }

  /** Replaces a record's document (update or replacement), keeping indexes consistent. */
  update(rec: Rec, newDoc: Doc, kind: 'update' | 'replace', options?: WriteOptions): void {
    const before = rec.doc;
    const probe: Rec = { ...rec, doc: newDoc, wrapped: hasWrappedNumbers(newDoc) };
    this.validate(newDoc, probe.wrapped, rec, options);
    const changed = this.indexes.filter((i) => i.keysChanged(before, newDoc));
    for (const index of changed) index.remove(rec, before, newDoc);
    try {
      for (const index of changed) index.checkUnique(probe, this.ns);
    } catch (err) {
      for (const index of changed) index.add(rec, newDoc);
      throw err;
    }
    shareValues(newDoc, before);
    rec.doc = newDoc;
    rec.wrapped = probe.wrapped;
    if (this.capped) {
      const size = calculateObjectSize(newDoc);
      this.cappedBytes += size - rec.size;
      rec.size = size;
    }
    for (const index of changed) index.add(rec, before);
    if (kind === 'replace') {
      this.emit(this, { operationType: 'replace', ns: this.nsDoc, documentKey: { _id: newDoc._id }, fullDocument: newDoc });
    } else {
      this.emit(this, { operationType: 'update', ns: this.nsDoc, documentKey: { _id: newDoc._id }, updateDescription: describeUpdate(before, newDoc) });
    }
  }

  private unlink(rec: Rec): void {
    const idKey = recordKey(rec.doc._id);
    this.records.delete(idKey);
    this.idOrder.removed(rec.doc._id, idKey);
    for (const index of this.indexes) index.remove(rec);
    this.cappedBytes -= rec.size;
  }

  delete(rec: Rec): void {
    this.unlink(rec);
    this.emit(this, { operationType: 'delete', ns: this.nsDoc, documentKey: { _id: rec.doc._id } });
  }

  getById(id: unknown): Rec | undefined {
    return this.records.get(recordKey(id));
  }

  /**
   * Chooses how to find candidates for a filter: by _id, by the best equality index, or a scan. Under
   * a collation, an index answers string conditions only if it has that collation.
   */
  plan(filter: Doc, collation?: Collation): { plan: QueryPlan; candidates: () => Iterable<Rec> } {
    const eq = equalityConditions(filter);
    const ids = eq.get('_id');
    if (ids && !(collation && ids.some(holdsString))) {
      return {
        plan: { stage: 'IDHACK', indexName: '_id_', keyPattern: { _id: 1 } },
        candidates: () => ids.map((v) => this.records.get(recordKey(v))).filter((r): r is Rec => r !== undefined),
      };
    }
    let best: { index: Index; tuples: unknown[][]; score: number } | undefined;
    for (const index of this.indexes) {
      if (!index.usable || index.spec.partialFilterExpression || index.spec.hidden) continue;
      const same = sameCollation(index.collation, collation);
      const lists: unknown[][] = [];
      for (const f of index.fields) {
        const vals = eq.get(f);
        if (!vals || (!same && vals.some(holdsString))) break;
        lists.push(vals);
      }
      if (lists.length === 0) continue;
      const tuples = valueTuples(lists);
      if (!tuples) continue;
      const full = lists.length === index.fields.length;
      const score = lists.length * 10 + (full ? 5 : 0) + (full && index.unique ? 100 : 0);
      if (!best || score > best.score) best = { index, tuples, score };
    }
    if (best) {
      const { index, tuples } = best;
      return {
        plan: { stage: 'IXSCAN', indexName: index.name, keyPattern: index.spec.key },
        candidates: () => {
          const recs = index.lookup(tuples);
          if (recs.length > 1) recs.sort((a, b) => a.seq - b.seq);
          return recs;
        },
      };
    }
    const ranges = rangeConditions(filter);
    const idRange = ranges.get('_id');
    // `_id` can hold no array, so both bounds narrow the walk.
    if (idRange && !(collation && (holdsString(idRange.lower?.value) || holdsString(idRange.upper?.value)))) {
      return {
        plan: ID_RANGE_PLAN,
        candidates: () => this.idOrder.range(idRange.lower, idRange.upper),
      };
    }
    for (const index of this.indexes) {
      const field = index.fields[0];
      const r = ranges.get(field);
      if (!r || !index.usable || index.spec.partialFilterExpression || index.spec.hidden || index.collation) continue;
      if (collation && (holdsString(r.lower?.value) || holdsString(r.upper?.value))) continue;
      // On arrays, $gt and $lt may be met by different elements: walk one bound only.
      const upper = index.multikey && r.lower ? undefined : r.upper;
      return {
        plan: { stage: 'IXSCAN', indexName: index.name, keyPattern: index.spec.key, rangeField: field },
        candidates: () => index.range(r.lower, upper),
      };
    }
    return { plan: { stage: 'COLLSCAN' }, candidates: () => this.records.values() };
  }

  /**
   * Records in the order of a single-field sort, from an index that holds every document with one key
   * each (complete, not multikey), optionally limited to a range of that field; undefined if none fits.
   */
  sortedBy(field: string, dir: number, filter: Doc): { plan: QueryPlan; records: Iterable<Rec> } | undefined {
    const r = rangeConditions(filter).get(field);
    if (field === '_id') {
      return { plan: ID_RANGE_PLAN, records: this.idOrder.range(r?.lower, r?.upper, dir < 0) };
    }
    // An index whose order is the sort's: it holds every document once, binary collation, not hidden.
    const index = this.indexes.find((i) => i.usable && i.complete && !i.multikey && !i.collation && !i.spec.hidden && i.fields[0] === field);
    if (!index) return undefined;
    return { plan: { stage: 'IXSCAN', indexName: index.name, keyPattern: index.spec.key, rangeField: field }, records: index.range(r?.lower, r?.upper, dir < 0) };
  }

  /** Matching records in plan order (natural order for scans), stopping after `limit` (0 = all). */
  select(filter: Doc, matcher: Matcher, limit = 0, collation?: Collation): Rec[] {
    const out: Rec[] = [];
    for (const rec of this.plan(filter, collation).candidates()) {
      if (matcher.test(rec.doc, rec.wrapped)) {
        out.push(rec);
        if (limit > 0 && out.length >= limit) break;
      }
    }
    return out;
  }

  /** Records inserted after `seq`, for tailable cursors. */
  insertedAfter(seq: number): Rec[] {
    const out: Rec[] = [];
    for (const rec of this.records.values()) if (rec.seq > seq) out.push(rec);
    return out;
  }

  waitForInsert(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.insertWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.insertWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  clear(): void {
    this.records.clear();
    this.idOrder.clear();
    for (const i of this.indexes) i.clear();
    this.cappedBytes = 0;
  }
}

/** What MongoDB refuses as a document's _id: arrays, regular expressions, and `$`-prefixed field names inside it. */
function checkId(id: unknown): void {
  if (Array.isArray(id)) throw new DevDbError(ErrorCode.InvalidIdField, "The '_id' value cannot be of type array");
  if (id instanceof RegExp) throw new DevDbError(ErrorCode.InvalidIdField, "can't use a regex for _id");
  const dollar = dollarField(id);
  if (dollar !== undefined) {
    throw new DevDbError(ErrorCode.DollarPrefixedFieldName, `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`);
  }
}

function dollarField(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const found = dollarField(x);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  for (const [k, x] of Object.entries(v as Doc)) {
    if (k.startsWith('$')) return k;
    const found = dollarField(x);
    if (found !== undefined) return found;
  }
  return undefined;
}
