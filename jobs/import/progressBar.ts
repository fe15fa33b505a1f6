/** A one-line progress bar on a terminal (redrawn in place), or a line every few seconds elsewhere. */
export interface ProgressBar {
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
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total, unit, label) {
      const at = now();
      if (label !== phase) {
        if (drawn && interactive) out.write('\n');
        phase = label;
        phaseStart = at;
        lastDraw = 0;
      }
      if (at - lastDraw < intervalMs && done < total) return;
      lastDraw = at;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const seconds = Math.max((at - phaseStart) / 1000, 0.001);
      const rate = Math.round(done / seconds);
      const line =
        `${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
        `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}  ${rate.toLocaleString('en-US')} ${unit}/s`;
      out.write(interactive ? `\r${line}\u001b[K` : `${line}\n`);
      drawn = true;
    },
    finish() {
      if (drawn && interactive) out.write('\n');
      drawn = false;
    },
  };
}
