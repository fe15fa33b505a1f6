/** The ingest benchmark's baselines: what the raw driver takes to write what an import stored, or one document per row. */
import { createReadStream } from 'node:fs';
import type { AnyBulkWriteOperation, Db, Document } from 'mongodb';
import { CHUNK_CHARS, createRowMapper, findMapping, readCsv, resolveColumns } from '../../subgraphs/profile/imports/index.js';
import type { ImportSpec } from './fileImport.js';

/** The import's own bookkeeping, which a raw load would not have: not part of what it stored. */
const BOOKKEEPING = new Set(['imports', 'importChunks', 'importErrors', 'profileSettings']);

/** The names of the sandbox's data collections: what an import stores, not its bookkeeping. */
export async function dataCollections(db: Db): Promise<string[]> {
  const all = await db.listCollections({}, { nameOnly: true }).toArray();
  return all.map(({ name }) => name).filter((name) => !BOOKKEEPING.has(name) && !name.startsWith('system.'));
}

/** The ids in each of the sandbox's data collections, before an import. */
export async function storedIds(db: Db): Promise<Map<string, Set<unknown>>> {
  const ids = new Map<string, Set<unknown>>();
  for (const name of await dataCollections(db)) {
    const set = new Set<unknown>();
    for await (const doc of db.collection(name).find({}, { projection: { _id: 1 } })) set.add(doc._id);
    ids.set(name, set);
  }
  return ids;
}

/**
 * The baseline: every document the import stored (those not there before it), written again with
 * the raw driver into scratch collections that have the same indexes. Only the bulkWrite calls are
 * timed; the documents are read back from the sandbox between them.
 */
export async function rawWriteOfStored(sandbox: Db, scratch: Db, before: Map<string, Set<unknown>>, spec: ImportSpec) {
  let seconds = 0;
  let documents = 0;
  for (const name of await dataCollections(sandbox)) {
    const known = before.get(name) ?? new Set();
    const target = scratch.collection(`stored_${spec.entity}_${spec.instance}_${name}`);
    for (const { key, v: _version, ns: _ns, ...options } of await sandbox.collection(name).listIndexes().toArray()) {
      if (options.name !== '_id_') await target.createIndex(key, options);
    }
    let batch: AnyBulkWriteOperation[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const started = performance.now();
      await target.bulkWrite(batch, { ordered: false });
      seconds += (performance.now() - started) / 1000;
      documents += batch.length;
      batch = [];
    };
    for await (const doc of sandbox.collection(name).find({})) {
      if (known.has(doc._id)) continue;
      batch.push({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } });
      if (batch.length >= 1000) await flush();
    }
    await flush();
    // Timed and no longer needed: the next copy (and the next import) need not share the database's memory with it.
    await target.drop();
  }
  return { seconds, documents };
}

/** The other baseline: the same parsing and mapping, then each row's main record upserted by source key. */
export async function rawWriteOfRows(db: Db, spec: ImportSpec, file: string): Promise<number> {
  const collection = db.collection<{ _id: string } & Document>(`raw_${spec.entity}_${spec.instance}`);
  const mapping = findMapping(spec.source, spec.entity);
  const started = performance.now();
  let mapRow: ReturnType<typeof createRowMapper> | undefined;
  let batch: AnyBulkWriteOperation<{ _id: string } & Document>[] = [];
  const flush = async () => {
    if (batch.length > 0) await collection.bulkWrite(batch, { ordered: false });
    batch = [];
  };
  for await (const item of readCsv(createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_CHARS }) as AsyncIterable<string>)) {
    if (item.kind === 'header') mapRow = createRowMapper(mapping, resolveColumns(mapping, item.columns), { instance: spec.instance });
    if (item.kind !== 'row') continue;
    const { main } = mapRow!(item.values);
    const { sourceKey, ...fields } = main.input as { sourceKey: string } & Document;
    batch.push({ updateOne: { filter: { _id: sourceKey }, update: { $set: fields }, upsert: true } });
    if (batch.length >= 1000) await flush();
  }
  await flush();
  const seconds = (performance.now() - started) / 1000;
  await collection.drop();
  return seconds;
}
