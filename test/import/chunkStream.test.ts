import { describe, expect, it } from 'vitest';
import { countCsvRecords, readCsv, type CsvItem } from '../../subgraphs/profile/imports/chunkStream.js';

async function collect(chunks: string[]): Promise<CsvItem[]> {
  const items: CsvItem[] = [];
  for await (const item of readCsv(chunks)) items.push(item);
  return items;
}

/** Splits text into chunks of `size` characters, so records straddle chunk boundaries. */
const split = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

describe('reading uploaded CSV chunks', () => {
  it('numbers rows by the line they start on, across chunks, blank lines and quoted line breaks', async () => {
    const text = '\uFEFFid,name\n1,Ann\n\n2,"two\nlines"\n3,"say ""hi"""\n';
    const items = await collect(split(text, 5));
    expect(items).toEqual([
      { kind: 'header', columns: ['id', 'name'] },
      { kind: 'row', line: 2, values: { id: '1', name: 'Ann' } },
      { kind: 'row', line: 4, values: { id: '2', name: 'two\nlines' } },
      { kind: 'row', line: 6, values: { id: '3', name: 'say "hi"' } },
    ]);
    expect(await countCsvRecords(split(text, 5))).toBe(3);
  });

  it('reports malformed rows by line and keeps every valid row, even after a quote that never closes', async () => {
    const text = ['id,name', '1,Ann', '2,Bob,extra', '3,"unterminated', '4,Dee', '5', '6,Fay'].join('\n');
    const items = await collect(split(text, 7));
    expect(items.filter((item) => item.kind === 'row').map((item) => (item as { line: number }).line)).toEqual([2, 5, 7]);
    expect(items.filter((item) => item.kind === 'error')).toEqual([
      { kind: 'error', line: 3, code: 'WRONG_FIELD_COUNT', reason: expect.stringContaining('The row has 3 fields; the header has 2') },
      { kind: 'error', line: 4, code: 'MALFORMED_CSV', reason: expect.stringContaining('never closed') },
      { kind: 'error', line: 6, code: 'WRONG_FIELD_COUNT', reason: expect.stringContaining('The row has 1 fields') },
    ]);
  });

  it('yields nothing for an empty file', async () => {
    expect(await collect([''])).toEqual([]);
  });

  it('numbers lines right in a file that mixes \\n, \\r\\n and \\r line breaks, even split between chunks', async () => {
    const items = await collect(['a,b\n1,2\r', '\n3,4\r5,6,7\r\n8,9\n']);
    expect(items.map((item) => (item.kind === 'header' ? 'header' : `${item.kind}@${item.line}`))).toEqual([
      'header',
      'row@2',
      'row@3',
      'error@4',
      'row@5',
    ]);
    expect(await countCsvRecords(['a,b\r\n1,2\r', '3,4\n'])).toBe(2);
  });
});
