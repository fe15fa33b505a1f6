/**
 * A one-line progress bar on a terminal (redrawn in place), or a line every few seconds elsewhere.
 * The rate counts from the phase's start: `start` marks it before anything is done; a phase first
 * met in `update` counts from there, leaving out what was done before it was seen.
 */
export interface ProgressBar {
  start(label: string): void;
  update(done: number, total: number, unit: string, label: string): void;
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
      if (at - lastDraw < intervalMs && done < total) return;
      lastDraw = at;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const seconds = (at - phaseStart) / 1000;
      const rate = seconds > 0 && done > doneAtStart ? `  ${Math.round((done - doneAtStart) / seconds).toLocaleString('en-US')} ${unit}/s` : '';
      const line =
        `${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
        `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}${rate}`;
      out.write(interactive ? `\r${line}\u001b[K` : `${line}\n`);
      drawn = true;
    },
    finish() {
      if (drawn && interactive) out.write('\n');
      drawn = false;
    },
  };
}
