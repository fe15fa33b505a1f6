/**
 * Fuzzing the import's file parsing: random bytes, mutated exports and hostile
 * shapes (runaway quotes, huge fields, thousands of columns), cut into random
 * upload chunks, through the CSV reader and every entity's row mapper. Each
 * input must end in bounded time with rows and typed row errors only: no
 * exception escapes, no line number is invented, nothing hangs.
 */
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvItem } from '../../subgraphs/profile/imports/chunkStream.js';
import { RowError, createRowMapper, findMapping, resolveColumns } from '../../subgraphs/profile/imports/mappings/index.js';
import { SOURCES, type SourceName } from '../../subgraphs/profile/imports/sources.js';
import { Fuzz } from '../support/fuzz.js';
import {
  MARKETO_ACTIVITY_COLUMNS,
  MARKETO_LEAD_COLUMNS,
  MUNCHKIN,
  ORG,
  SALESFORCE_ACCOUNT_COLUMNS,
  csvText,
  marketoActivity,
  marketoLead,
  salesforceAccount,
} from '../../lib/fixtures/exportFiles.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0xc5f00d);
/** Every input is tried, however loaded the machine: a count, not a time budget, bounds the test. */
const INPUTS = 150;

const VALID_FILES: Array<{ source: SourceName; entity: string; text: string }> = [
  { source: 'marketo', entity: 'leads', text: csvText(MARKETO_LEAD_COLUMNS, Array.from({ length: 8 }, (_, i) => marketoLead(i))) },
  { source: 'marketo', entity: 'activities', text: csvText(MARKETO_ACTIVITY_COLUMNS, Array.from({ length: 8 }, (_, i) => marketoActivity(i, i))) },
  { source: 'salesforce', entity: 'Account', text: csvText(SALESFORCE_ACCOUNT_COLUMNS, Array.from({ length: 8 }, (_, i) => salesforceAccount(i))) },
];

function hostileText(fuzz: Fuzz, base: string): string {
  switch (fuzz.int(6)) {
    case 0:
      return fuzz.bytes(fuzz.int(4096)).toString('latin1');
    case 1:
      return fuzz.bytes(fuzz.int(4096)).toString('utf8');
    case 2:
      return `${base}"${'x'.repeat(fuzz.int(50_000))}`; // a quote that never closes
    case 3:
      return `${base.split('\n')[0]}\n${'"a",'.repeat(2_000 + fuzz.int(2_000))}\n`; // thousands of columns
    case 4:
      return `${base}${'y'.repeat(1_100_000)},z\n`; // one field over the record limit
    default:
      return fuzz.mutate(base, 1 + fuzz.int(12));
  }
}

/** Cuts a file into upload chunks at random places, including inside quotes and characters. */
function chunked(fuzz: Fuzz, text: string): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; ) {
    const size = 1 + fuzz.int(Math.max(1, Math.min(text.length, 5_000)));
    chunks.push(text.slice(at, at + size));
    at += size;
  }
  return chunks;
}

async function consume(source: SourceName, entity: string, chunks: string[]): Promise<{ rows: number; rowErrors: number; lines: number[] }> {
  const mapping = findMapping(source, entity);
  const context = { instance: source === 'marketo' ? MUNCHKIN : ORG };
  let mapRow: ((values: Readonly<Record<string, string>>) => unknown) | undefined;
  const result = { rows: 0, rowErrors: 0, lines: [] as number[] };
  for await (const item of readCsv(chunks) as AsyncGenerator<CsvItem>) {
    if (item.kind === 'header') {
      mapRow = createRowMapper(mapping, resolveColumns(mapping, item.columns), context);
      continue;
    }
    result.lines.push(item.line);
    if (item.kind === 'error') {
      result.rowErrors += 1;
      continue;
    }
    try {
      mapRow?.(item.values);
      result.rows += 1;
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      result.rowErrors += 1;
    }
  }
  return result;
}

describe('import file parsing under fuzzing', () => {
  it(`survives ${INPUTS} hostile files (seed ${SEED}) with rows and typed row errors only`, async () => {
    const fuzz = new Fuzz(SEED);
    const crashes: string[] = [];
    let tried = 0;
    for (; tried < INPUTS; tried++) {
      const file = fuzz.pick(VALID_FILES);
      const text = hostileText(fuzz, file.text);
      try {
        const { lines } = await consume(file.source, file.entity, chunked(fuzz, text));
        const lineCount = text.split(/\r\n|\r|\n/).length;
        for (const line of lines) {
          // Line 1 is the header, which can be malformed too.
          if (!Number.isInteger(line) || line < 1 || line > lineCount) throw new Error(`line ${line} of a ${lineCount}-line file`);
        }
      } catch (error) {
        crashes.push(`input ${tried}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    console.log(`csv fuzz: ${tried} inputs tried, ${crashes.length} crashes (seed ${SEED})`);
    expect(crashes).toEqual([]);
    expect(tried).toBe(INPUTS);
  }, 120_000);

  it('maps every source entity without throwing anything but row errors on mutated rows', async () => {
    const fuzz = new Fuzz(SEED + 1);
    for (const [source, definition] of Object.entries(SOURCES) as Array<[SourceName, (typeof SOURCES)[SourceName]]>) {
      for (const entity of definition.entities) {
        const mapping = findMapping(source, entity);
        const header = Object.values(mapping.fields).map((spec) => (typeof spec.column === 'string' ? spec.column : spec.column[0]!));
        const rows = Array.from({ length: 30 }, () => header.map(() => `"${fuzz.text(12).replaceAll('"', '""')}"`).join(','));
        const result = await consume(source, entity, chunked(fuzz, [header.join(','), ...rows].join('\n')));
        expect(result.rows + result.rowErrors).toBeGreaterThan(0);
      }
    }
  });
});
