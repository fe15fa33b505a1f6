/** Child processes of the benchmarks: devdb on its own, a worker, their peak memory, optional CPU profiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * devdb holds every document in its heap: a benchmark at scale (1,000,000 leads and their baselines,
 * or 200,000 people's 7 million memberships and as many membership events) needs more than Node's
 * default limit of about 4 GB, so it may use three quarters of the machine.
 */
const DEVDB_HEAP_MB = Math.floor((totalmem() / 2 ** 20) * 0.75);

/**
 * Node flags of the platform's server processes, read from package.json's `start` script (`start:*`,
 * `devdb` and `bench` give the same), so a benchmark measures them as they run. A request allocates
 * many short-lived objects (decoded BSON, plans, replies); with Node's default young generation, a
 * scavenge promotes those a request still holds, and the old generation fills with garbage that only
 * a major GC over the whole heap reclaims: devdb's heap is every stored document. A 64 MB semi-space
 * let them die young: devdb's CPU on the segments benchmark at 50,000 people fell from 100 s to 70 s.
 */
export const SERVER_NODE_FLAGS: readonly string[] = startScriptFlags();

function startScriptFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const flags = /^tsx((?: --\S+)*) platform\/start\.ts$/.exec(scripts.start ?? '')?.[1];
  if (flags === undefined) throw new Error(`package.json's start script is not "tsx [--flag ...] platform/start.ts": ${scripts.start}`);
  return flags.trim().split(' ').filter(Boolean);
}

/**
 * The children still running. A benchmark stopped by a signal (Ctrl-C, `kill`) takes them down with
 * it: left behind, a devdb and a worker would carry on with the run and load the machine, skewing
 * every measurement after it.
 */
const running = new Set<ChildProcess>();
let stopsOnSignal = false;

export function stopsWithBenchmark<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!stopsOnSignal) {
    stopsOnSignal = true;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        for (const each of running) each.kill('SIGKILL');
        process.exit(128 + constants.signals[signal]);
      });
    }
  }
  return child;
}

export async function startDevDbChild(children: ChildProcess[]): Promise<string> {
  const child = stopsWithBenchmark(spawn(process.execPath, [`--max-old-space-size=${DEVDB_HEAP_MB}`, ...SERVER_NODE_FLAGS, ...profilerFlags(), '--import', 'tsx', fileURLToPath(new URL('../../devdb/cli.ts', import.meta.url)), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  }));
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devdb exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('MONGODB_URI=')) resolve(line.slice('MONGODB_URI='.length));
    });
  });
}

/** BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each child process there (devdb, every worker). */
export function profilerFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The process's high-water mark of resident memory (Linux: VmHWM). */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
  return Math.round((kb * 1024) / 1e6);
}

/**
 * A fresh worker process, and when it is ready to take jobs: its start-up (loading
 * the TypeScript sources, connecting) is not import work, so the clock starts after it.
 */
export function startWorkerChild(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const logLevel = env.CDP_LOG_LEVEL;
  const quieterThanInfo = logLevel === 'silent' || logLevel === 'warn' || logLevel === 'error' || logLevel === 'fatal';
  const child = stopsWithBenchmark(spawn(process.execPath, [...SERVER_NODE_FLAGS, ...profilerFlags(), '--import', 'tsx', fileURLToPath(new URL('../../platform/worker.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Info at least, for the line that says it started; shown only when BENCH_LOG asks for logs.
    // Workers side by side: each serves its metrics on a free port.
    env: { ...process.env, WORKER_METRICS_PORT: '0', ...env, CDP_LOG_LEVEL: quieterThanInfo ? 'info' : logLevel },
  }));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`The worker exited with ${code} before it started`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!quieterThanInfo) console.log(line);
      if (line.includes('"Worker started"')) resolve();
    });
  });
  return { child, ready };
}
