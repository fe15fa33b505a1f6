import { HEADER_SIZE, MAX_MESSAGE_SIZE, ProtocolError, type MessageHeader } from './constants.js';

export interface Frame {
  header: MessageHeader;
  /** The message body after the 16-byte header. */
  body: Buffer;
}

/** Splits a TCP byte stream into whole wire-protocol messages, rejecting impossible lengths early. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        throw new ProtocolError(`invalid message length ${length} (allowed ${HEADER_SIZE}..${MAX_MESSAGE_SIZE})`);
      }
      if (this.buffered < length) break;
      const msg = this.take(length);
      frames.push({
        header: {
          messageLength: length,
          requestId: msg.readInt32LE(4),
          responseTo: msg.readInt32LE(8),
          opCode: msg.readInt32LE(12),
        },
        body: msg.subarray(HEADER_SIZE),
      });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const msg = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return msg;
  }
}

export function encodeHeader(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}
