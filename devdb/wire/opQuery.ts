import { Long } from 'bson';
import { encodeDocument, readDocument } from './bsonCodec.js';
import { OpCode, ProtocolError } from './constants.js';
import { encodeHeader } from './framing.js';
import type { Doc } from '../query/values.js';

export interface OpQueryRequest {
  fullCollectionName: string;
  db: string;
  command: Doc;
}

/** Legacy OP_QUERY: drivers still use it for the first `hello`; only `<db>.$cmd` is supported. */
export function parseOpQuery(body: Buffer): OpQueryRequest {
  if (body.length < 4 + 1 + 8 + 5) throw new ProtocolError('OP_QUERY too short');
  const nul = body.indexOf(0, 4);
  if (nul < 0) throw new ProtocolError('OP_QUERY collection name not terminated');
  const fullCollectionName = body.toString('utf8', 4, nul);
  const { doc } = readDocument(body, nul + 1 + 8);
  let command = doc;
  // Wrapped form: { $query: {...}, $readPreference: ... }
  if (command.$query !== undefined && typeof command.$query === 'object' && command.$query !== null) {
    command = command.$query as Doc;
  }
  const dot = fullCollectionName.indexOf('.');
  return { fullCollectionName, db: dot < 0 ? fullCollectionName : fullCollectionName.slice(0, dot), command };
}

export function encodeOpReply(reply: Doc, requestId: number, responseTo: number): Buffer {
  const doc = encodeDocument(reply);
  const length = 16 + 4 + 8 + 4 + 4 + doc.length;
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(0, 0); // responseFlags
  fields.writeBigInt64LE(BigInt(Long.ZERO.toString()), 4); // cursorID
  fields.writeInt32LE(0, 12); // startingFrom
  fields.writeInt32LE(1, 16); // numberReturned
  return Buffer.concat([encodeHeader(length, requestId, responseTo, OpCode.OP_REPLY), fields, doc], length);
}
