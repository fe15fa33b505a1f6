import net from 'node:net';
import { runCommand } from './commands/index.js';
import { DevDbError, ErrorCode } from './errors.js';
import { errorFields, type DevDbLogger } from './logger.js';
import type { ServerInfo } from './commands/context.js';
import type { Doc } from './query/values.js';
import type { Deployment } from './storage/deployment.js';
import { OpCode, ProtocolError } from './wire/constants.js';
import { FrameReader, type Frame } from './wire/framing.js';
import { encodeOpMsg, parseOpMsg } from './wire/opMsg.js';
import { encodeOpReply, parseOpQuery } from './wire/opQuery.js';

/** One client connection: frames in, commands run one at a time in arrival order, replies out. */
class Connection {
  private readonly reader = new FrameReader();
  private queue: Promise<void> = Promise.resolve();
  private readonly closed = new AbortController();
  private nextRequestId = 1;

  constructor(
    private readonly socket: net.Socket,
    readonly id: number,
    private readonly deployment: Deployment,
    private readonly info: ServerInfo,
    private readonly log: DevDbLogger,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A client that exits without closing its sockets resets them: routine, not a warning.
      const routine = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      this.log[routine ? 'info' : 'warn']({ connectionId: id, err: err.message }, 'connection error');
    });
    socket.on('close', () => this.closed.abort());
  }

  private onData(chunk: Buffer): void {
    if (this.closed.signal.aborted) return;
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const frame of frames) {
      this.queue = this.queue.then(() => this.handle(frame)).catch((err: unknown) => this.fail(err));
    }
  }

  /** Bad input closes this connection only; the server keeps running. */
  private fail(err: unknown): void {
    if (this.closed.signal.aborted) return;
    this.log.warn({ connectionId: this.id, ...errorFields(err, !(err instanceof ProtocolError)) }, 'closing connection after bad input');
    this.closed.abort();
    this.socket.destroy();
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.closed.signal.aborted) return;
    const { header, body } = frame;
    let command: Doc;
    let db: string;
    let moreToCome = false;
    let encode: (reply: Doc, requestId: number, responseTo: number) => Buffer;
    switch (header.opCode) {
      case OpCode.OP_MSG: {
        const msg = parseOpMsg(body);
        command = msg.command;
        moreToCome = msg.moreToCome;
        if (typeof command.$db !== 'string') throw new ProtocolError('OP_MSG command without $db');
        db = command.$db;
        encode = encodeOpMsg;
        break;
      }
      case OpCode.OP_QUERY: {
        const q = parseOpQuery(body);
        if (!q.fullCollectionName.endsWith('.$cmd')) throw new ProtocolError(`legacy OP_QUERY on ${q.fullCollectionName} is not supported`);
        command = q.command;
        db = q.db;
        encode = encodeOpReply;
        break;
      }
      default:
        throw new ProtocolError(`unsupported opCode ${header.opCode}`);
    }
    const reply = await runCommand(command, {
      deployment: this.deployment,
      db,
      connectionId: this.id,
      server: this.info,
      signal: this.closed.signal,
    });
    if (moreToCome || this.closed.signal.aborted) return;
    let bytes: Buffer;
    try {
      bytes = encode(reply, this.nextRequestId++, header.requestId);
    } catch (err) {
      // e.g. an aggregation result over 16 MiB: an error reply, as MongoDB gives, not a dropped connection.
      const message = err instanceof Error ? err.message : String(err);
      bytes = encode(new DevDbError(ErrorCode.BSONObjectTooLarge, `reply could not be encoded: ${message}`).toReply(), this.nextRequestId++, header.requestId);
    }
    this.socket.write(bytes);
  }

  close(): void {
    this.closed.abort();
    this.socket.destroy();
  }
}

export interface WireServer {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createWireServer(deployment: Deployment, info: ServerInfo, log: DevDbLogger): WireServer {
  const connections = new Set<Connection>();
  let nextId = 1;
  const server = net.createServer((socket) => {
    const conn = new Connection(socket, nextId++, deployment, info, log);
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
  });
  server.on('error', (err) => log.error({ err: err.message }, 'server error'));
  return {
    listen: (port, host) => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    }),
    close: () => new Promise((resolve) => {
      for (const c of connections) c.close();
      connections.clear();
      server.close(() => resolve());
    }),
  };
}
