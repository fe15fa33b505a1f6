/** A worker thread running a TypeScript module of the benchmarks. */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker does not inherit the TypeScript loader the benchmarks run with: its
 * entry registers tsx, then loads `moduleUrl` (pass `import.meta.url`).
 */
export function startTsWorker(moduleUrl: string, options: WorkerOptions = {}): Worker {
  const entry = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(moduleUrl)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(entry)}`), options);
}
