/** The records a batch knows, by id and by source key: those read before planning and those its earlier records made. */
import { DomainError, notFound } from '../../lib/errors.js';

export type Reference = { id: string } | { sourceKey: string };

export class KnownRecords<T extends { id: string; sourceKeys: string[] }> {
  private readonly byId = new Map<string, T>();
  private readonly idBySourceKey = new Map<string, string>();

  constructor(
    private readonly what: string,
    records: readonly T[],
  ) {
    for (const record of records) this.put(record);
  }

  put(record: T): void {
    this.byId.set(record.id, record);
    for (const key of record.sourceKeys) this.idBySourceKey.set(key, record.id);
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  bySourceKey(sourceKey: string): T | undefined {
    const id = this.idBySourceKey.get(sourceKey);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** The referenced record; NOT_FOUND naming `field` when the batch does not know it. */
  resolve(reference: Reference, field: string): T {
    const record = 'id' in reference ? this.get(reference.id) : this.bySourceKey(reference.sourceKey);
    if (!record) {
      const error = notFound(this.what, 'id' in reference ? reference.id : reference.sourceKey);
      throw new DomainError(error.code, error.message, { details: { ...error.details, field } });
    }
    return record;
  }
}

/** Ids and source keys a batch refers to, for the one read before planning. */
export function collectReferences(references: readonly (Reference | undefined)[]): { ids: string[]; sourceKeys: string[] } {
  const ids = new Set<string>();
  const sourceKeys = new Set<string>();
  for (const reference of references) {
    if (!reference) continue;
    if ('id' in reference) ids.add(reference.id);
    else sourceKeys.add(reference.sourceKey);
  }
  return { ids: [...ids], sourceKeys: [...sourceKeys] };
}
