/** The command line's progress line: percent, counts, and a rate counted from when the phase started. */
import { describe, expect, it } from 'vitest';
import { createProgressBar } from '../../subgraphs/profile/imports/cli/progressBar.js';

function fakeOutput() {
  const lines: string[] = [];
  const out = { isTTY: false, write: (text: string) => lines.push(text.trimEnd()) } as unknown as NodeJS.WriteStream;
  return { out, lines };
}

describe('progress bar', () => {
  it('counts the rate from the phase start, including rows done before the first poll saw them', () => {
    let clock = 1_000;
    const { out, lines } = fakeOutput();
    const bar = createProgressBar(out, { now: () => clock, intervalMs: 0 });
    bar.start('importing');
    clock += 1_000;
    bar.update(5_000, 20_000, 'rows', 'importing');
    clock += 3_000;
    bar.update(20_000, 20_000, 'rows', 'importing');

    expect(lines).toEqual([
      'importing  [######------------------]  25.0%  5,000/20,000 rows  5,000 rows/s',
      'importing  [########################] 100.0%  20,000/20,000 rows  5,000 rows/s',
    ]);
  });

  it('leaves out what was done before a phase it was not told about was first seen', () => {
    let clock = 1_000;
    const { out, lines } = fakeOutput();
    const bar = createProgressBar(out, { now: () => clock, intervalMs: 0 });
    bar.update(5_000, 20_000, 'rows', 'importing');
    clock += 2_000;
    bar.update(9_000, 20_000, 'rows', 'importing');

    expect(lines).toEqual([
      'importing  [######------------------]  25.0%  5,000/20,000 rows',
      'importing  [###########-------------]  45.0%  9,000/20,000 rows  2,000 rows/s',
    ]);
  });

  it('off a terminal, writes a line at most every interval, and always the last one', () => {
    let clock = 1_000;
    const { out, lines } = fakeOutput();
    const bar = createProgressBar(out, { now: () => clock, intervalMs: 2_000 });
    bar.start('uploading');
    clock += 500;
    bar.update(500, 1_000, 'bytes', 'uploading');
    clock += 500;
    bar.update(700, 1_000, 'bytes', 'uploading');
    clock += 1_000;
    bar.update(1_000, 1_000, 'bytes', 'uploading');

    expect(lines).toEqual([
      'uploading  [############------------]  50.0%  500/1,000 bytes  1,000 bytes/s',
      'uploading  [########################] 100.0%  1,000/1,000 bytes  500 bytes/s',
    ]);
  });

  it('shows the count alone while the total is not known, or is behind what is done, never 50/10', () => {
    let clock = 1_000;
    const { out, lines } = fakeOutput();
    const bar = createProgressBar(out, { now: () => clock, intervalMs: 0 });
    bar.start('importing');
    clock += 1_000;
    bar.update(50, null, 'rows', 'importing');
    clock += 1_000;
    bar.update(60, 10, 'rows', 'importing');
    clock += 1_000;
    bar.update(90, 100, 'rows', 'importing');

    expect(lines).toEqual([
      'importing  50 rows (total still being counted)  50 rows/s',
      'importing  60 rows (total still being counted)  30 rows/s',
      'importing  [######################--]  90.0%  90/100 rows  30 rows/s',
    ]);
  });
});
