/** The import part of the ingest benchmark: export files written by the fixtures, then imported through the API as the CLI does. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { GraphQLCall } from '../../lib/graphqlClient.js';
import { csvLine, type Row } from '../../lib/fixtures/exportFiles.js';
import { uploadFile, type SourceName } from '../../subgraphs/profile/imports/index.js';
import { peakRssMb, stopChild } from '../support/processes.js';

export interface ImportSpec {
  name: string;
  source: SourceName;
  instance: string;
  entity: string;
  columns: readonly string[];
  rows: number;
  row: (n: number) => Row;
}

export async function writeCsv(dir: string, spec: ImportSpec): Promise<string> {
  const file = join(dir, `${spec.entity}-${spec.instance}.csv`);
  const out = createWriteStream(file);
  out.write(`${spec.columns.join(',')}\n`);
  for (let n = 0; n < spec.rows; n++) {
    if (!out.write(`${csvLine(spec.columns, spec.row(n))}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

interface ImportState {
  status: string;
  rowsImported: number;
  rowsRejected: number;
  failure: string | null;
}

/** Status reads in a row that may fail before the measurement is given up. */
const MAX_POLL_FAILURES = 5;

/** Through the API, as the CLI does (its upload code): start, upload the file in chunks, complete, wait; then the worker's peak RSS. */
export async function measureImport(call: GraphQLCall, spec: ImportSpec, file: string, worker: ChildProcess) {
  const started = performance.now();
  try {
    const { startImport } = await call<{ startImport: { id: string } }>(`mutation($input: StartImportInput!) { startImport(input: $input) { id } }`, {
      input: { source: spec.source, instance: spec.instance, entity: spec.entity },
    });
    const chunkCount = await uploadFile(call, startImport.id, file);
    await call(`mutation($id: ID!, $n: Int!) { completeImportUpload(importId: $id, chunkCount: $n) { id } }`, { id: startImport.id, n: chunkCount });
    const uploadSeconds = (performance.now() - started) / 1000;
    let pollFailures = 0;
    for (;;) {
      let state: ImportState;
      try {
        ({ import: state } = await call<{ import: ImportState }>(`query($id: ID!) { import(id: $id) { status rowsImported rowsRejected failure } }`, { id: startImport.id }));
        pollFailures = 0;
      } catch (error) {
        // The import runs on in the worker whatever one status read answers; a long run is not thrown away for
        // one failed read, but every failure is shown, and a lasting one ends the run.
        if (++pollFailures >= MAX_POLL_FAILURES) throw error;
        console.error(`Reading the status of the ${spec.name} import failed (${pollFailures} in a row): ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (state.status === 'FAILED') throw new Error(`Import of ${spec.name} failed: ${state.failure}`);
      if (state.status === 'SUCCEEDED') {
        const seconds = (performance.now() - started) / 1000;
        return { seconds, uploadSeconds, peakRssMb: await peakRssMb(worker.pid!), rowsRejected: state.rowsRejected };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await stopChild(worker);
  }
}
