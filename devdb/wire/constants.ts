export enum OpCode {
  OP_REPLY = 1,
  OP_QUERY = 2004,
  OP_COMPRESSED = 2012,
  OP_MSG = 2013,
}

export const HEADER_SIZE = 16;
/** Largest message a client may send, as advertised in `hello.maxMessageSizeBytes`. */
export const MAX_MESSAGE_SIZE = 48_000_000;
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

export const OP_MSG_CHECKSUM_PRESENT = 1 << 0;
export const OP_MSG_MORE_TO_COME = 1 << 1;
export const OP_MSG_EXHAUST_ALLOWED = 1 << 16;

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A protocol violation: the connection is closed (MongoDB does the same). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
