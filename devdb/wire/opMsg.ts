import { encodeDocument, readDocument } from './bsonCodec.js';
import { OP_MSG_CHECKSUM_PRESENT, OP_MSG_MORE_TO_COME, OpCode, ProtocolError } from './constants.js';
import { encodeHeader } from './framing.js';
import type { Doc } from '../query/values.js';

export interface OpMsgRequest {
  flags: number;
  /** The body with any document sequences (kind 1) merged in as array fields. */
  command: Doc;
  moreToCome: boolean;
}

const KNOWN_FLAGS = OP_MSG_CHECKSUM_PRESENT | OP_MSG_MORE_TO_COME | (1 << 16);

export function parseOpMsg(body: Buffer): OpMsgRequest {
  if (body.length < 5) throw new ProtocolError('OP_MSG too short');
  const flags = body.readUInt32LE(0);
  // Unknown required bits (0-15) must make the server reject the message.
  if ((flags & 0xffff) & ~KNOWN_FLAGS) throw new ProtocolError(`OP_MSG has unknown required flag bits 0x${flags.toString(16)}`);
  const end = flags & OP_MSG_CHECKSUM_PRESENT ? body.length - 4 : body.length;
  let offset = 4;
  let command: Doc | undefined;
  const sequences: Array<[string, Doc[]]> = [];
  while (offset < end) {
    const kind = body.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (command) throw new ProtocolError('OP_MSG has more than one body section');
      const { doc, size } = readDocument(body, offset);
      command = doc;
      offset += size;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = body.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end) throw new ProtocolError('invalid document sequence size');
      const nul = body.indexOf(0, offset + 4);
      if (nul < 0 || nul >= seqEnd) throw new ProtocolError('unterminated document sequence identifier');
      const id = body.toString('utf8', offset + 4, nul);
      let p = nul + 1;
      const docs: Doc[] = [];
      while (p < seqEnd) {
        const { doc, size: dsize } = readDocument(body, p, true);
        if (p + dsize > seqEnd) throw new ProtocolError('document overruns its sequence');
        docs.push(doc);
        p += dsize;
      }
      sequences.push([id, docs]);
      offset = seqEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!command) throw new ProtocolError('OP_MSG without a body section');
  for (const [id, docs] of sequences) {
    if (id in command) throw new ProtocolError(`duplicate field ${id} in OP_MSG body and document sequence`);
    command[id] = docs;
  }
  return { flags, command, moreToCome: (flags & OP_MSG_MORE_TO_COME) !== 0 };
}

export function encodeOpMsg(reply: Doc, requestId: number, responseTo: number): Buffer {
  const doc = encodeDocument(reply);
  const length = 16 + 4 + 1 + doc.length;
  const flags = Buffer.alloc(5);
  return Buffer.concat([encodeHeader(length, requestId, responseTo, OpCode.OP_MSG), flags, doc], length);
}
