/**
 * The client side of an upload: a file sent to an import in chunks through the
 * gateway, a few chunks in flight, each read from the file only when it is sent,
 * so the file is never whole in memory. Used by `npm run import` and the ingest
 * benchmark alike.
 */
import { createReadStream } from 'node:fs';
import type { GraphQLCall } from '../../../../lib/graphqlClient.js';

/** Characters per chunk: at most 512 KiB of UTF-8, well inside the 1 MiB chunk limit and the request limits. */
export const CHUNK_CHARS = 128 * 1024;
const UPLOADS_IN_FLIGHT = 4;

/** Sends the file's chunks to the import and returns how many there were (0 for an empty file). */
export async function uploadFile(call: GraphQLCall, importId: string, file: string, onSent?: (bytesSent: number) => void): Promise<number> {
  let index = 0;
  let bytesSent = 0;
  const inFlight = new Set<Promise<void>>();
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_CHARS });
  for await (const content of stream as AsyncIterable<string>) {
    const upload = call(`mutation Upload($id: ID!, $index: Int!, $content: String!) { uploadImportChunk(importId: $id, index: $index, content: $content) { id } }`, {
      id: importId,
      index: index++,
      content,
    }).then(() => {
      bytesSent += Buffer.byteLength(content);
      onSent?.(bytesSent);
    });
    inFlight.add(upload);
    void upload.finally(() => inFlight.delete(upload)).catch(() => {});
    if (inFlight.size >= UPLOADS_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return index;
}
