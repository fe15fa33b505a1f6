import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BSON, MongoClient } from 'mongodb';
import { mongoUri, openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('wire'); });
afterAll(async () => { await ctx.close(); });

/**
 * The first host of the URI as the driver itself reads it (MongoClient parses at construction and
 * opens nothing until connect). A raw socket speaks plain TCP only: TLS, SRV (hosts known only after
 * a DNS lookup) and unix sockets are out of its reach, and these tests say so in their names.
 */
const parsed = new MongoClient(mongoUri()).options;
const unreachable = parsed.srvHost !== undefined ? 'a mongodb+srv URI'
  : parsed.tls ? 'a TLS connection'
    : parsed.hosts[0]?.socketPath !== undefined ? 'a unix socket'
      : undefined;
const rawIt = it.skipIf(unreachable !== undefined);
const raw = (name: string): string => (unreachable ? `${name} [skipped: ${unreachable} cannot be reached by a raw socket]` : name);

function address(): { host: string; port: number } {
  const first = parsed.hosts[0];
  return { host: first.host!, port: first.port ?? 27017 };
}

/** The reply a raw exchange got: nothing (the server closed the connection) or a parsed OP_MSG/OP_REPLY body. */
function replyOf(received: Buffer): Record<string, unknown> | undefined {
  if (received.length < 16 || received.length < received.readInt32LE(0)) return undefined;
  const opCode = received.readInt32LE(12);
  return BSON.deserialize(received.subarray(opCode === 1 ? 36 : 21));
}

/** Sends bytes on a fresh socket and resolves with what came back once the server closes it (or 3 s pass). */
function exchange(bytes: Buffer): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const { host, port } = address();
    const socket = net.connect(port, host);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { socket.destroy(); resolve({ closed: false, received: Buffer.concat(chunks) }); }, 3000);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => { clearTimeout(timer); resolve({ closed: true, received: Buffer.concat(chunks) }); });
  });
}

function header(length: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(1, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opMsg(doc: Record<string, unknown>): Buffer {
  const body = Buffer.from(BSON.serialize(doc));
  const flags = Buffer.alloc(5);
  return Buffer.concat([header(16 + 5 + body.length, 2013), flags, body]);
}

async function stillServing(): Promise<void> {
  expect(await ctx.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
}

describe('wire protocol robustness', () => {
  rawIt(raw('answers a well-formed OP_MSG ping on a raw socket'), async () => {
    const { host, port } = address();
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(port, host, () => s.write(opMsg({ ping: 1, $db: 'admin' })));
      const chunks: Buffer[] = [];
      s.on('data', (c) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 4 && all.length >= all.readInt32LE(0)) { s.destroy(); resolve(all); }
      });
      s.on('error', reject);
    });
    expect(reply.readInt32LE(12)).toBe(2013);
    expect(BSON.deserialize(reply.subarray(21))).toMatchObject({ ok: 1 });
  });

  rawIt(raw('answers a legacy OP_QUERY isMaster with OP_REPLY (the handshake older drivers use)'), async () => {
    const q = Buffer.concat([
      Buffer.alloc(4), // flags
      Buffer.from('admin.$cmd\0'),
      Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), // numberToSkip 0, numberToReturn -1
      Buffer.from(BSON.serialize({ isMaster: 1 })),
    ]);
    const msg = Buffer.concat([header(16 + q.length, 2004), q]);
    const { host, port } = address();
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(port, host, () => s.write(msg));
      const chunks: Buffer[] = [];
      s.on('data', (c) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 4 && all.length >= all.readInt32LE(0)) { s.destroy(); resolve(all); }
      });
      s.on('error', reject);
    });
    expect(reply.readInt32LE(12)).toBe(1);
    expect(reply.readInt32LE(32)).toBe(1);
    expect(BSON.deserialize(reply.subarray(36))).toMatchObject({ ismaster: true, ok: 1 });
  });

  rawIt.each([
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a negative length', header(-5, 2013)],
    ['a message over 48,000,000 bytes', header(48_000_001, 2013)],
    ['an unknown opcode', Buffer.concat([header(20, 9999), Buffer.alloc(4)])],
    ['an OP_MSG with a corrupt BSON body', Buffer.concat([header(16 + 5 + 10, 2013), Buffer.from([0, 0, 0, 0, 0]), Buffer.from([10, 0, 0, 0, 0x02, 0x61, 0, 0xff, 0xff, 0])])],
    ['an OP_MSG with a body length past the end', Buffer.concat([header(16 + 5 + 5, 2013), Buffer.from([0, 0, 0, 0, 0]), Buffer.from([0xff, 0, 0, 0, 0])])],
    ['an unknown section kind', Buffer.concat([header(16 + 5 + 5, 2013), Buffer.from([0, 0, 0, 0, 7]), Buffer.from([5, 0, 0, 0, 0])])],
  ])(raw('rejects %s: no successful reply, and keeps serving others'), async (_label, bytes) => {
    const { closed, received } = await exchange(bytes);
    const reply = replyOf(received);
    // A server closes the connection at once or first answers with an error; it never answers ok or leaves the client hanging.
    const outcome = reply !== undefined ? `reply ok: ${String(reply.ok)}` : closed ? 'closed' : 'no answer, still open';
    expect(['closed', 'reply ok: 0']).toContain(outcome);
    await stillServing();
  });

  rawIt(raw('survives a truncated frame followed by a disconnect'), async () => {
    const { host, port } = address();
    await new Promise<void>((resolve, reject) => {
      // The first 20 bytes of a frame, then end of stream: the server reads a frame that never completes.
      const s = net.connect(port, host, () => s.end(opMsg({ ping: 1, $db: 'admin' }).subarray(0, 20), () => { s.destroy(); resolve(); }));
      s.on('error', reject);
    });
    await stillServing();
  });
});

describe('size limits', () => {
  rawIt(raw('answers BSONObjectTooLarge for a document over 16 MiB in a document sequence'), async () => {
    const body = Buffer.from(BSON.serialize({ insert: 'big', $db: ctx.db.databaseName }));
    const doc = Buffer.from(BSON.serialize({ blob: 'x'.repeat(16 * 1024 * 1024 + 10) }));
    const id = Buffer.from('documents\0');
    const seqLen = Buffer.alloc(4);
    seqLen.writeInt32LE(4 + id.length + doc.length);
    const payload = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body, Buffer.from([1]), seqLen, id, doc]);
    const msg = Buffer.concat([header(16 + payload.length, 2013), payload]);
    const { host, port } = address();
    const reply = await new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
      const s = net.connect(port, host, () => s.write(msg));
      const chunks: Buffer[] = [];
      s.on('data', (c) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 4 && all.length >= all.readInt32LE(0)) { s.destroy(); resolve(BSON.deserialize(all.subarray(21))); }
      });
      s.on('error', reject);
      s.on('close', () => resolve(undefined));
    });
    // As mongod: the batch is accepted and the oversized document is a write error.
    expect(reply).toMatchObject({ ok: 1, n: 0, writeErrors: [{ index: 0, code: 10334 }] });
    expect(await ctx.db.collection('big').countDocuments()).toBe(0);
    await stillServing();
  });
});
