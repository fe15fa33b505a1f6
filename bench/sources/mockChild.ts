/** The sources benchmark's side of mockProcess.ts: starts it, and changes leads and reads call counts through it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Row } from '../../lib/fixtures/exportFiles.js';
import { stopChild, stopsWithBenchmark } from '../support/processes.js';

export type MockRequest = { kind: 'changeLead'; id: string; fields: Row } | { kind: 'state' };

export interface MockCalls {
  calls: number;
  overLimit: number;
}

export type MockResponse =
  | { kind: 'ready'; marketo: { restUrl: string; identityUrl: string }; salesforce: { url: string } }
  | { kind: 'changed'; id: string }
  | { kind: 'state'; marketo: MockCalls; salesforce: MockCalls };

export interface MockSourcesChild {
  child: ChildProcess;
  marketo: { restUrl: string; identityUrl: string };
  salesforce: { url: string };
  changeLead(id: string, fields: Row): Promise<void>;
  state(): Promise<{ marketo: MockCalls; salesforce: MockCalls }>;
  close(): Promise<void>;
}

export async function startMockSourcesChild(scale: number, createdAt: Date): Promise<MockSourcesChild> {
  const child = stopsWithBenchmark(fork(fileURLToPath(new URL('./mockProcess.ts', import.meta.url)), [String(scale), createdAt.toISOString()], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }));
  const waiting: Array<{ kind: MockResponse['kind']; resolve: (message: MockResponse) => void; reject: (error: Error) => void }> = [];
  child.on('message', (message: MockResponse) => {
    const index = waiting.findIndex((entry) => entry.kind === message.kind);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
  });
  child.on('exit', (code) => {
    for (const entry of waiting.splice(0)) entry.reject(new Error(`The mock process exited with ${code}`));
  });
  const next = <K extends MockResponse['kind']>(kind: K) =>
    new Promise<Extract<MockResponse, { kind: K }>>((resolve, reject) => waiting.push({ kind, resolve: resolve as (message: MockResponse) => void, reject }));
  const ready = await next('ready');
  // One request at a time, so each answer is the one asked for.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = <K extends MockResponse['kind']>(request: MockRequest, kind: K): Promise<Extract<MockResponse, { kind: K }>> => {
    const answer = queue.then(() => {
      const awaited = next(kind);
      child.send(request);
      return awaited;
    });
    queue = answer.catch(() => undefined);
    return answer;
  };
  return {
    child,
    marketo: ready.marketo,
    salesforce: ready.salesforce,
    async changeLead(id, fields) {
      await ask({ kind: 'changeLead', id, fields }, 'changed');
    },
    async state() {
      const { marketo, salesforce } = await ask({ kind: 'state' }, 'state');
      return { marketo, salesforce };
    },
    async close() {
      if (child.connected) child.disconnect();
      await stopChild(child);
    },
  };
}
