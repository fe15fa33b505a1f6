/**
 * A headless Chromium driven over the DevTools protocol (a websocket; no
 * browser-automation dependency): open a page, run script in it, and wait for a
 * condition on the page with a MutationObserver rather than by polling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import WebSocket from 'ws';

const BINARIES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The first Chromium on PATH (CHROMIUM_PATH first), or undefined. */
export async function findChromium(path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = [process.env.CHROMIUM_PATH, ...path.split(delimiter).flatMap((dir) => BINARIES.map((name) => join(dir, name)))];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      await access(candidate);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

export interface BrowserPage {
  /** Runs `expression` in the page (awaiting a promise it returns) and answers its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Resolves with the truthy value of `predicate` (a function's source) once it has one, as the page changes. */
  waitFor<T>(predicate: string, timeoutMs?: number): Promise<T>;
}

export interface HeadlessChromium {
  open(url: string): Promise<BrowserPage>;
  close(): Promise<void>;
}

export async function launchChromium(binary: string): Promise<HeadlessChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'cdp-chromium-'));
  const child: ChildProcess = spawn(
    binary,
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`chromium exited (${code}) before DevTools listened: ${output.slice(-500)}`)));
  });
  const socket = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });

  let nextId = 1;
  const pending = new Map<number, Pending>();
  const listeners = new Set<(message: { method?: string; sessionId?: string; params?: Record<string, unknown> }) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string };
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result ?? {});
    } else {
      for (const listener of listeners) listener(message);
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  return {
    async open(url) {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      await send('Page.enable', {}, sessionId);
      const loaded = new Promise<void>((resolve) => {
        const listener = (message: { method?: string; sessionId?: string }) => {
          if (message.sessionId === sessionId && message.method === 'Page.loadEventFired') {
            listeners.delete(listener);
            resolve();
          }
        };
        listeners.add(listener);
      });
      await send('Page.navigate', { url }, sessionId);
      await loaded;
      const evaluate = async <T>(expression: string): Promise<T> => {
        const result = (await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId)) as {
          result: { value?: T };
          exceptionDetails?: { exception?: { description?: string }; text?: string };
        };
        if (result.exceptionDetails) {
          throw new Error(result.exceptionDetails.exception?.description ?? result.exceptionDetails.text ?? 'evaluation failed');
        }
        return result.result.value as T;
      };
      return {
        evaluate,
        waitFor: <T>(predicate: string, timeoutMs = 15_000) =>
          evaluate<T>(`new Promise((resolve, reject) => {
            const predicate = ${predicate};
            const observer = new MutationObserver(check);
            const timer = setTimeout(() => { observer.disconnect(); reject(new Error('timed out waiting for ' + ${JSON.stringify(predicate)})); }, ${timeoutMs});
            function check() {
              const value = predicate();
              if (value) { observer.disconnect(); clearTimeout(timer); resolve(value); }
            }
            observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
            check();
          })`),
      };
    },
    async close() {
      socket.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      // Chromium's helper processes may still be writing to the profile just after the browser exits.
      await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
