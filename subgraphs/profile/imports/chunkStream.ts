/**
 * Reads an uploaded CSV file, chunk by chunk, as header, rows and row errors,
 * each with the line number it starts on (the header is line 1), so bad rows can
 * be reported where a user finds them in the file. Memory stays bounded by one
 * chunk and one record, however large the file.
 *
 * A malformed row never stops the rest: rows with the wrong number of fields are
 * reported and skipped; a quote that is never closed swallows the lines after it
 * into one bad record, so those lines are parsed again on their own and only the
 * line that opened the quote is reported.
 */
import { Readable } from 'node:stream';
import { parse, type CsvError, type Info, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

export type CsvItem =
  | { kind: 'header'; columns: string[] }
  | { kind: 'row'; line: number; values: Record<string, string> }
  | { kind: 'error'; line: number; code: string; reason: string };

/** A record longer than this is malformed (a runaway quote): it is reported, and the lines in it parsed again. */
export const MAX_RECORD_CHARS = 1024 * 1024;

/** Quote errors after which the swallowed lines are parsed again. */
const RECOVERABLE = new Set(['CSV_QUOTE_NOT_CLOSED', 'CSV_INVALID_CLOSING_QUOTE', 'CSV_MAX_RECORD_SIZE']);

const BASE_OPTIONS: Options = {
  bom: true,
  raw: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
  max_record_size: MAX_RECORD_CHARS,
};

const countNewlines = (text: string) => {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
};

/** The line a record starts on, from the line it ends on and its raw text (leading blank lines excluded). */
function startLine(endLine: number, raw: string): number {
  const body = raw.replace(/^(\r?\n)+/, '').replace(/\r?\n$/, '');
  return endLine - countNewlines(body);
}

function describe(error: CsvError): { code: string; reason: string } {
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return { code: 'WRONG_FIELD_COUNT', reason: `The row has ${(error.record as unknown[] | undefined)?.length ?? 'a different number of'} fields; the header has ${(error as CsvError & { columns?: unknown[] }).columns?.length ?? 'another number'}. Quote values that contain commas` };
    case 'CSV_QUOTE_NOT_CLOSED':
    case 'CSV_MAX_RECORD_SIZE':
      return { code: 'MALFORMED_CSV', reason: 'A quote opened on this line is never closed; close it, or double quotes inside quoted values ("")' };
    case 'CSV_INVALID_CLOSING_QUOTE':
      return { code: 'MALFORMED_CSV', reason: 'A quoted value on this line is not closed properly; double quotes inside quoted values ("")' };
    default:
      return { code: 'MALFORMED_CSV', reason: error.message };
  }
}

/**
 * What one skipped record becomes: an error at its first line and, when a quote
 * swallowed the lines after it, whatever those lines hold on their own.
 */
function skippedItems(error: CsvError, raw: string | undefined, columns: string[]): CsvItem[] {
  const text = raw ?? '';
  const line = startLine(Number(error.lines), text);
  const items: CsvItem[] = [{ kind: 'error', line, ...describe(error) }];
  const body = text.replace(/^(\r?\n)+/, '');
  const rest = body.indexOf('\n');
  if (RECOVERABLE.has(error.code) && rest !== -1 && rest < body.length - 1) {
    items.push(...parseLines(body.slice(rest + 1), columns, line + 1));
  }
  return items;
}

/** Parses text already in memory (lines a broken quote swallowed), numbering from `firstLine`. */
function parseLines(text: string, columns: string[], firstLine: number): CsvItem[] {
  const items: CsvItem[] = [];
  const offset = firstLine - 1;
  parseSync(text, {
    ...BASE_OPTIONS,
    columns,
    on_record: (record: { record: Record<string, string>; raw: string }, info: Info & { raw?: string }) => {
      items.push({ kind: 'row', line: offset + startLine(info.lines, record.raw), values: record.record });
      return null;
    },
    on_skip: (error: CsvError | undefined, raw?: string) => {
      if (!error) return;
      for (const item of skippedItems(error, raw, columns)) {
        items.push(item.kind === 'header' ? item : { ...item, line: item.line + offset });
      }
    },
  } as unknown as Options);
  return items;
}

export async function* readCsv(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<CsvItem> {
  let columns: string[] = [];
  // csv-parse calls these synchronously while it parses, in file order, so pushing
  // onto its readable side keeps rows and errors in order, with its backpressure.
  const parser = parse({
    ...BASE_OPTIONS,
    columns: (header: string[]) => {
      columns = header.map((name) => name.trim());
      parser.push({ kind: 'header', columns } satisfies CsvItem);
      return columns;
    },
    on_record: (record: { record: Record<string, string>; raw: string }, info: Info) =>
      ({ kind: 'row', line: startLine(info.lines, record.raw), values: record.record }) satisfies CsvItem,
    on_skip: (error: CsvError | undefined, raw?: string) => {
      if (error) for (const item of skippedItems(error, raw, columns)) parser.push(item);
    },
  } as unknown as Options);
  const source = Readable.from(normaliseLineBreaks(chunks), { objectMode: false });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  try {
    for await (const item of parser) yield item as CsvItem;
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/**
 * `\r\n` and a lone `\r` become `\n`, across chunk boundaries too. Exports mix
 * them (a file saved by Excel, then appended to); one kind of line break keeps
 * the parser's line count, and so every reported line number, exact.
 */
export async function* normaliseLineBreaks(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  let pendingCarriageReturn = false;
  for await (const chunk of chunks) {
    let text: string = pendingCarriageReturn ? `\r${chunk}` : chunk;
    pendingCarriageReturn = text.endsWith('\r');
    if (pendingCarriageReturn) text = text.slice(0, -1);
    if (text !== '') yield text.replace(/\r\n?/g, '\n');
  }
  if (pendingCarriageReturn) yield '\n';
}

/**
 * Counts the records of a CSV file (header excluded) without parsing fields:
 * line breaks outside quotes, ignoring blank lines. Exact for well-formed files;
 * used for progress, before the rows themselves are read.
 */
export async function countCsvRecords(chunks: AsyncIterable<string> | Iterable<string>): Promise<number> {
  let lines = 0;
  let inQuotes = false;
  let lineHasContent = false;
  for await (const chunk of normaliseLineBreaks(chunks)) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 34) {
        inQuotes = !inQuotes;
        lineHasContent = true;
      } else if (c === 10 && !inQuotes) {
        if (lineHasContent) lines++;
        lineHasContent = false;
      } else {
        lineHasContent = true;
      }
    }
  }
  if (lineHasContent) lines++;
  return Math.max(0, lines - 1);
}
