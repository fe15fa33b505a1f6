/**
 * Reading a GraphQL request body at the edge, bounded and checked before any
 * GraphQL work: the gateway, the admin API and every subgraph read bodies here.
 *
 * - The size limit holds whether the client declares a Content-Length or sends
 *   the body chunked: reading stops at the first byte past it.
 * - JSON bodies are scanned byte by byte for over-long arrays as they stream in,
 *   so a variable holding hundreds of thousands of elements is refused once its
 *   first bytes past the limit arrive, never parsed, validated or coerced.
 *   (Subgraphs skip this scan: their lists come from the gateway's query plans.)
 * - A body that is not valid JSON is refused without quoting it: parser messages
 *   repeat the body, and bodies hold profile data.
 */
import type { IncomingMessage } from 'node:http';
import { DomainError, ErrorCode } from '../errors.js';

export interface BodyLimits {
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most elements one JSON array of the body may hold (variables' lists, batched operations). */
  maxListLength: number;
}

export function bodyTooLarge(maxBodyBytes: number): DomainError {
  return new DomainError(ErrorCode.LimitExceeded, `The request body is larger than the ${maxBodyBytes}-byte limit`, {
    details: { maxBodyBytes },
  });
}

/**
 * Reads the whole body, refusing (LIMIT_EXCEEDED) as soon as it passes
 * `maxBodyBytes`, declared or not. On refusal the rest is left unread and the
 * socket open, so the caller can still answer (with `connection: close`).
 */
export function readBoundedBody(req: IncomingMessage, maxBodyBytes: number, inspect?: (chunk: Buffer) => DomainError | undefined): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return Promise.reject(bodyTooLarge(maxBodyBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      const refused = size > maxBodyBytes ? bodyTooLarge(maxBodyBytes) : inspect?.(chunk);
      if (!refused) {
        chunks.push(chunk);
        return;
      }
      stop();
      req.pause();
      reject(refused);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Finds JSON arrays longer than `maxListLength` as the body streams in, chunk
 * by chunk: one pass over the bytes, no allocation beyond a stack of open
 * containers, so an over-long list is refused before the rest of the body is
 * even read. Malformed JSON is left to the parser.
 */
export class JsonListScanner {
  // For each open container: the commas seen at its own level (-1 for an object, whose commas do not count).
  private readonly outer: number[] = [];
  private commas = -1;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxListLength: number) {}

  /** The LIMIT_EXCEEDED error once a list is too long; undefined so far. */
  push(chunk: Uint8Array): DomainError | undefined {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
      } else if (byte === QUOTE) {
        this.inString = true;
      } else if (byte === OPEN_BRACKET) {
        this.outer.push(this.commas);
        this.commas = 0;
      } else if (byte === OPEN_BRACE) {
        this.outer.push(this.commas);
        this.commas = -1;
      } else if (byte === COMMA) {
        if (this.commas >= 0 && ++this.commas >= this.maxListLength) return listTooLong(this.maxListLength);
      } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
        this.commas = this.outer.pop() ?? -1;
      }
    }
    return undefined;
  }
}

/** The first JSON array in `body` with more than `maxListLength` elements, as a LIMIT_EXCEEDED error. */
export function jsonListLengthError(body: Uint8Array, maxListLength: number): DomainError | undefined {
  return new JsonListScanner(maxListLength).push(body);
}

function listTooLong(maxListLength: number): DomainError {
  return new DomainError(ErrorCode.LimitExceeded, `A list in the request has more than ${maxListLength} elements`, {
    details: { maxListLength },
  });
}

/** Parses a JSON body; a malformed one answers BAD_REQUEST, never quoting the body. */
export function parseJsonBody(body: Buffer | string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new DomainError(ErrorCode.BadRequest, 'The request body is not valid JSON');
  }
}

/** Whether a Content-Type names JSON (`application/json`, `application/graphql-response+json`, ...). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json' || mediaType?.endsWith('+json') === true;
}

/**
 * Reads, bounds, scans and parses a JSON request body: what every GraphQL
 * endpoint does before anything else. Non-JSON bodies are returned as text.
 */
export async function readGraphQLBody(req: IncomingMessage, limits: BodyLimits): Promise<{ raw: Buffer; parsed: unknown }> {
  const json = isJsonMediaType(req.headers['content-type']);
  const scanner = json && Number.isFinite(limits.maxListLength) ? new JsonListScanner(limits.maxListLength) : undefined;
  const raw = await readBoundedBody(req, limits.maxBodyBytes, scanner && ((chunk) => scanner.push(chunk)));
  if (raw.length === 0) return { raw, parsed: undefined };
  return { raw, parsed: json ? parseJsonBody(raw) : raw.toString('utf8') };
}

/**
 * The same list bound for values already parsed (a websocket message's
 * variables, which graphql-ws parses itself): an iterative walk that stops at
 * the first list over the limit, before validation or coercion sees it.
 */
export function valueListLengthError(value: unknown, maxListLength: number): DomainError | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      if (item.length > maxListLength) return listTooLong(maxListLength);
      for (const element of item) if (element !== null && typeof element === 'object') pending.push(element);
    } else {
      for (const key in item) pending.push((item as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/**
 * After refusing a body before its end, reads and drops the rest (up to
 * `maxBytes` more, then the connection is cut), so a client still sending can
 * finish and read the answer instead of meeting a reset connection.
 */
export function discardRest(req: IncomingMessage, maxBytes: number): void {
  if (req.complete) return;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBytes) req.destroy();
  });
  req.resume();
}
