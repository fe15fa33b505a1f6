import { deserialize, serialize } from 'bson';
import { fromWire, type Doc } from '../query/values.js';
import { MAX_BSON_OBJECT_SIZE, ProtocolError } from './constants.js';

/** Keep numeric types (Int32/Double/Long/Decimal128) exactly as the client sent them. */
const DECODE_OPTIONS = { promoteValues: false, promoteLongs: false, promoteBuffers: false, useBigInt64: false } as const;

/** Documents from a document sequence that are over the 16 MiB limit, with their size. */
const oversized = new WeakMap<Doc, number>();

/** The size of a document that was received over the BSON size limit, if it was. */
export function oversizedBy(doc: Doc): number | undefined {
  return oversized.get(doc);
}

/**
 * Reads one BSON document at `offset`; a bad length or bad bytes is a protocol error. Command bodies may
 * be 16 MiB + 16 KiB (room for the command around a maximal document); documents in a sequence are
 * read up to the message size and flagged, so the write that carries them can fail cleanly.
 */
export function readDocument(buf: Buffer, offset: number, allowOversized = false): { doc: Doc; size: number } {
  if (offset + 5 > buf.length) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new ProtocolError(`invalid BSON document length ${size}`);
  if (!allowOversized && size > MAX_BSON_OBJECT_SIZE + 16 * 1024) throw new ProtocolError(`BSON document of ${size} bytes exceeds the maximum`);
  let doc: Doc;
  try {
    doc = deserialize(buf.subarray(offset, offset + size), DECODE_OPTIONS) as Doc;
  } catch (err) {
    throw new ProtocolError(`invalid BSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out = fromWire(doc) as Doc;
  if (size > MAX_BSON_OBJECT_SIZE) oversized.set(out, size);
  return { doc: out, size };
}

export function encodeDocument(doc: Doc): Buffer {
  const bytes = serialize(doc, { ignoreUndefined: true });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
