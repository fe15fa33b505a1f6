/**
 * A one-line progress bar on a terminal (redrawn in place), or a line every few seconds elsewhere.
 * A total not known yet (null), or behind what is done, shows the count alone, never `50/10`.
 * The rate counts from the phase's start: `start` marks it before anything is done; a phase first
 * met in `update` counts from there, leaving out what was done before it was seen.
 */
export interface ProgressBar {
  start(label: string): void;
  update(done: number, total: number | null, unit: string, label: string): void;
  finish(): void;
}

const WIDTH = 24;

export function createProgressBar(out: NodeJS.WriteStream, options: { now?: () => number; intervalMs?: number } = {}): ProgressBar {
  const now = options.now ?? Date.now;
  const interactive = Boolean(out.isTTY);
  const intervalMs = options.intervalMs ?? (interactive ? 100 : 2000);
  let phase = '';
  let phaseStart = now();
  let doneAtStart = 0;
  let lastDraw = -Infinity;
  let drawn = false;

  const start = (label: string, done: number) => {
    if (drawn && interactive) out.write('\n');
    drawn = false;
    phase = label;
    phaseStart = now();
    doneAtStart = done;
    lastDraw = -Infinity;
  };

  return {
    start: (label) => start(label, 0),
    update(done, total, unit, label) {
      if (label !== phase) start(label, done);
      const at = now();
      const known = total !== null && total > 0 && total >= done ? total : null;
      if (at - lastDraw < intervalMs && (known === null || done < known)) return;
      lastDraw = at;
      const seconds = (at - phaseStart) / 1000;
      const rate = seconds > 0 && done > doneAtStart ? `  ${Math.round((done - doneAtStart) / seconds).toLocaleString('en-US')} ${unit}/s` : '';
      let line: string;
      if (known === null) {
        line = `${label.padEnd(10)} ${done.toLocaleString('en-US')} ${unit} (total still being counted)${rate}`;
      } else {
        const fraction = Math.min(1, done / known);
        const filled = Math.round(fraction * WIDTH);
        line =
          `${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
          `${done.toLocaleString('en-US')}/${known.toLocaleString('en-US')} ${unit}${rate}`;
      }
      out.write(interactive ? `\r${line}\u001b[K` : `${line}\n`);
      drawn = true;
    },
    finish() {
      if (drawn && interactive) out.write('\n');
      drawn = false;
    },
  };
}
