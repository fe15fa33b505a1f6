/**
 * Worker processes for tests that kill a worker (SIGKILL) mid-run and watch another take
 * its work over. A worker script (see workerProcessMain.ts) prints WORKER_READY once it
 * takes work; a test starts it, waits for that line and kills it at a point of its choosing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The line a worker script prints once it takes work. */
export const WORKER_READY = 'ready';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What every worker script takes: `<mongoUri> <dbPrefix> <name>`, then arguments of its own. */
export interface WorkerProcessArguments {
  uri: string;
  prefix: string;
  name: string;
  args?: readonly string[];
}

export interface WorkerProcesses {
  /**
   * Runs `node --import tsx <script> <uri> <prefix> <name> ...args` from the repository root and
   * resolves once it is ready; rejects with its standard error if it exits first.
   */
  start(script: string, worker: WorkerProcessArguments): Promise<ChildProcess>;
  /** Kills every process this group started that is still running, and waits for each to end. */
  killAll(): Promise<void>;
}

/** A group of worker processes a suite starts, so its afterEach/afterAll can kill what is left. */
export function workerProcesses(): WorkerProcesses {
  const started: ChildProcess[] = [];
  return {
    start(script, { uri, prefix, name, args = [] }) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, uri, prefix, name, ...args], { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child);
      return whenReady(child, name);
    },
    async killAll() {
      await Promise.all(started.splice(0).map(killWorkerProcess));
    },
  };
}

/** SIGKILLs a worker process, as a crash would, and resolves once it has ended. */
export function killWorkerProcess(child: ChildProcess): Promise<void> {
  if (hasEnded(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function whenReady(child: ChildProcess, name: string): Promise<ChildProcess> {
  let output = '';
  let errors = '';
  let ready = false;
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    // Read to the end, so a chatty worker never blocks on a full pipe; look at whole lines only,
    // as a chunk may end in the middle of one.
    child.stdout!.on('data', (chunk: Buffer) => {
      if (ready) return;
      output += chunk.toString();
      ready = output.split('\n').slice(0, -1).includes(WORKER_READY);
      if (ready) resolve(child);
    });
    child.once('error', (error) => reject(new Error(`worker ${name} could not start: ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`worker ${name} exited (${signal ?? code}) before it was ready: ${errors}`)));
  });
}

function hasEnded(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
