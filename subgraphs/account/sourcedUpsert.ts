/**
 * The one bulk upsert of sourced records (accounts and opportunities): match each
 * record by id, then by source key; keep the stored values when the record is older
 * (most recent wins); let the kind resolve its references and check what a new
 * record needs; plan the whole batch in memory from one read, then write it with
 * one bulkWrite, and answer one result per input.
 */
import { DomainError, ErrorCode } from '../../lib/errors.js';
import { planRecord, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import type { IdGenerator, IdPrefix } from '../../lib/subgraph/ids.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import type { SaveOutcome, SourcedWrite } from './accounts.repository.js';
import { collectReferences, KnownRecords, type Reference } from './knownRecords.js';
import { addToWrite, concurrentCreate, isOlderThanStored, mergeAttributes } from './recordRules.js';

/** What every stored sourced record has. */
export interface SourcedRecord {
  id: string;
  sourceKeys: string[];
  sourceUpdatedAt?: Date;
  attributes?: JsonObject;
  createdAt: Date;
  updatedAt: Date;
}

/** A validated input record: how it names the stored one, and the values it sets. */
export interface NormalizedSourced<F> {
  id?: string;
  sourceKey?: string;
  fields: F;
  attributes?: JsonObject;
  sourceUpdatedAt?: Date;
}

/** Where the records of one kind are stored. */
export interface SourcedStore<F, R> {
  findByIdsOrSourceKeys(ids: readonly string[], sourceKeys: readonly string[]): Promise<R[]>;
  saveAll(writes: readonly SourcedWrite<F>[]): Promise<SaveOutcome<R>>;
}

/** What differs between accounts and opportunities. */
export interface SourcedKind<I, F extends { sourceUpdatedAt?: Date }, R extends SourcedRecord, N extends NormalizedSourced<F>, C> {
  /** The GraphQL type, for NOT_FOUND messages: "Account". */
  typeName: string;
  /** In messages: "account". */
  noun: string;
  /** Prefix of new ids: "acc". */
  idPrefix: IdPrefix;
  normalize(input: I): N;
  /** References into the same collection besides the record's own id and source key (an account's parent). */
  extraReferences?(record: N): (Reference | undefined)[];
  /** Reads what the batch refers to elsewhere (an opportunity's accounts), once per batch. */
  loadContext(records: readonly N[]): Promise<C>;
  /**
   * Completes `fields` for a record that applies: resolves its references (throwing NOT_FOUND
   * naming the input field) and checks what creating a record needs (`existing` undefined).
   */
  complete(record: N, fields: F, existing: R | undefined, known: KnownRecords<R>, context: C): void;
  /** The fields a new record must have, from its completed fields. */
  required(id: string, fields: F, now: Date): Omit<R, keyof SourcedRecord> & Partial<SourcedRecord>;
}

export interface SourcedResult<R> {
  index: number;
  status: RecordStatus;
  record: R | null;
  error: RecordError | null;
}

export interface SourcedUpsertDeps {
  now: Date;
  newId: IdGenerator;
}

export async function upsertSourced<I, F extends { sourceUpdatedAt?: Date }, R extends SourcedRecord, N extends NormalizedSourced<F>, C>(
  kind: SourcedKind<I, F, R, N, C>,
  store: SourcedStore<F, R>,
  inputs: readonly I[],
  deps: SourcedUpsertDeps,
): Promise<SourcedResult<R>[]> {
  const normalized = inputs.map((input) => planRecord(() => kind.normalize(input)));
  const valid = normalized.flatMap((record) => ('ok' in record ? [record.ok] : []));
  const references = collectReferences(valid.flatMap((record) => [...ownReferences(record), ...(kind.extraReferences?.(record) ?? [])]));
  const [stored, context] = await Promise.all([store.findByIdsOrSourceKeys(references.ids, references.sourceKeys), kind.loadContext(valid)]);
  const known = new KnownRecords(kind.typeName, stored);

  const writes = new Map<string, SourcedWrite<F>>();
  const results: SourcedResult<R>[] = normalized.map((record, index) => {
    const planned = 'ok' in record ? planRecord(() => planOne(kind, record.ok, known, context, writes, deps)) : record;
    return 'ok' in planned
      ? { index, status: planned.ok.status, record: planned.ok.record, error: null }
      : { index, status: 'REJECTED', record: null, error: planned.error };
  });

  const batch = [...writes.values()];
  const { failed, superseded } = await store.saveAll(batch);
  const lostRace = new Set([...failed].map((i) => batch[i]!.id));
  // A newer version was stored meanwhile: answer with it, as for an older record seen at planning.
  const newer = new Map([...superseded].map(([i, record]) => [batch[i]!.id, record]));
  for (const result of results) {
    if (!result.record) continue;
    if (lostRace.has(result.record.id)) Object.assign(result, { status: 'REJECTED', record: null, error: concurrentCreate(kind.noun) });
    else if (newer.has(result.record.id)) Object.assign(result, { status: 'UPDATED', record: newer.get(result.record.id) });
  }
  return results;
}

function ownReferences(record: NormalizedSourced<unknown>): (Reference | undefined)[] {
  return [record.id ? { id: record.id } : undefined, record.sourceKey ? { sourceKey: record.sourceKey } : undefined];
}

/** The stored record an input names: by id (whose source key must not belong to another), else by source key. */
function findExisting<R extends SourcedRecord>(record: NormalizedSourced<unknown>, known: KnownRecords<R>, noun: string): R | undefined {
  if (record.id) {
    const existing = known.resolve({ id: record.id }, 'id');
    const owner = record.sourceKey ? known.bySourceKey(record.sourceKey) : undefined;
    if (owner && owner.id !== existing.id) {
      throw new DomainError(ErrorCode.Conflict, `sourceKey ${JSON.stringify(record.sourceKey)} belongs to ${noun} ${JSON.stringify(owner.id)}`, {
        details: { field: 'sourceKey' },
      });
    }
    return existing;
  }
  return record.sourceKey ? known.bySourceKey(record.sourceKey) : undefined;
}

/** Applies one record to the batch's view of the stored records; throws a DomainError to reject it. */
function planOne<I, F extends { sourceUpdatedAt?: Date }, R extends SourcedRecord, N extends NormalizedSourced<F>, C>(
  kind: SourcedKind<I, F, R, N, C>,
  record: N,
  known: KnownRecords<R>,
  context: C,
  writes: Map<string, SourcedWrite<F>>,
  { now, newId }: SourcedUpsertDeps,
): { status: 'CREATED' | 'UPDATED'; record: R } {
  const existing = findExisting(record, known, kind.noun);
  const sourceKeys = existing?.sourceKeys ?? [];
  const addSourceKeys = record.sourceKey && !sourceKeys.includes(record.sourceKey) ? [record.sourceKey] : [];

  if (existing && isOlderThanStored(existing.sourceUpdatedAt, record.sourceUpdatedAt)) {
    // Older than the stored version (a replayed export): values stay; a new source key still joins.
    const kept: R = { ...existing, sourceKeys: [...sourceKeys, ...addSourceKeys] };
    if (addSourceKeys.length > 0) {
      known.put(kept);
      addToWrite(writes, { id: existing.id, create: false, fields: {} as F, addSourceKeys, values: false, now });
    }
    return { status: 'UPDATED', record: kept };
  }

  const fields: F = { ...record.fields, sourceUpdatedAt: record.sourceUpdatedAt ?? now };
  kind.complete(record, fields, existing, known, context);
  const id = existing?.id ?? newId(kind.idPrefix);
  const updated = {
    ...(existing ?? { ...kind.required(id, fields, now), id, createdAt: now }),
    ...fields,
    attributes: mergeAttributes(existing?.attributes, record.attributes),
    sourceKeys: [...sourceKeys, ...addSourceKeys],
    updatedAt: now,
  } as unknown as R;
  if (updated.attributes === undefined) delete updated.attributes;
  known.put(updated);

  addToWrite(writes, { id, create: !existing, fields, attributes: record.attributes, addSourceKeys, sourceUpdatedAt: record.sourceUpdatedAt, values: true, now });
  return { status: existing ? 'UPDATED' : 'CREATED', record: updated };
}
