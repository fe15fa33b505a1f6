/** A joinable stream gives each subscriber what a stream of its own would, and ends when its last subscriber leaves. */
import { describe, expect, it, vi } from 'vitest';
import type { ExecutionResult } from 'graphql';
import { JoinableStreams } from '../../gateway/live/fanOut.js';
import { fakeUpstream, membershipEvent as event, stream, type FakeUpstream } from './fakeUpstream.js';

function streams(options: { maxQueued?: number } = {}) {
  const joinable = new JoinableStreams({ maxQueued: options.maxQueued ?? 10_000, joinWindowMs: 1_000 });
  const upstreams: FakeUpstream[] = [];
  const open = () => {
    const opened = fakeUpstream();
    upstreams.push(opened);
    return opened.iterator;
  };
  return { join: (key = 'k', joinOptions?: Parameters<JoinableStreams['join']>[2]) => joinable.join(key, open, joinOptions), upstreams };
}

describe('joinable streams', () => {
  it('gives subscribers of one key started together one upstream, and each of them every result', async () => {
    const { join, upstreams } = streams();
    const first = stream(await join());
    const second = stream(await join());
    const other = stream(await join('other'));
    expect(upstreams).toHaveLength(2);
    upstreams[0]!.push(event('c1'));
    upstreams[0]!.push(event('c2'));
    expect(await first.next()).toEqual({ value: event('c1'), done: false });
    expect(await first.next()).toEqual({ value: event('c2'), done: false });
    expect(await second.next()).toEqual({ value: event('c1'), done: false });
    expect(await second.next()).toEqual({ value: event('c2'), done: false });
    upstreams[1]!.push(event('o1'));
    expect(await other.next()).toEqual({ value: event('o1'), done: false });
  });

  it('opens a new upstream for a subscriber that comes after the first result was sent', async () => {
    const { join, upstreams } = streams();
    const early = stream(await join());
    upstreams[0]!.push(event('c1'));
    await early.next();
    const late = stream(await join());
    expect(upstreams).toHaveLength(2);
    upstreams[1]!.push(event('c2'));
    expect(await late.next()).toEqual({ value: event('c2'), done: false });
  });

  it('opens a new upstream once the join window has passed, even when nothing was sent', async () => {
    vi.useFakeTimers();
    try {
      const { join, upstreams } = streams();
      await join();
      vi.advanceTimersByTime(999);
      await join();
      expect(upstreams).toHaveLength(1);
      vi.advanceTimersByTime(1);
      await join();
      expect(upstreams).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes the upstream when its last subscriber leaves, by return() or by its signal, not when the one that opened it does', async () => {
    const { join, upstreams } = streams();
    const cancel = new AbortController();
    const opener = stream(await join());
    const cancelled = stream(await join('k', { signal: cancel.signal }));
    const last = stream(await join());
    await opener.return!();
    cancel.abort();
    expect(await opener.next()).toEqual({ value: undefined, done: true });
    expect(await cancelled.next()).toEqual({ value: undefined, done: true });
    expect(upstreams[0]!.returned).toBe(false);
    upstreams[0]!.push(event('c1'));
    expect(await last.next()).toEqual({ value: event('c1'), done: false });
    await last.return!();
    expect(upstreams[0]!.returned).toBe(true);
  });

  it('ends a subscriber that stops reading with LIMIT_EXCEEDED, and says so, while the others go on', async () => {
    const { join, upstreams } = streams({ maxQueued: 2 });
    const overflowed: string[] = [];
    const reader = stream(await join('k', { onOverflow: () => overflowed.push('reader') }));
    const idle = stream(await join('k', { onOverflow: () => overflowed.push('idle') }));
    for (const cursor of ['c1', 'c2', 'c3', 'c4']) {
      const next = reader.next();
      upstreams[0]!.push(event(cursor));
      expect(await next).toEqual({ value: event(cursor), done: false });
    }
    await expect(idle.next()).rejects.toMatchObject({ extensions: { code: 'LIMIT_EXCEEDED' } });
    expect(overflowed).toEqual(['idle']);
    expect(upstreams[0]!.returned).toBe(false);
  });

  it('hands a single result (a refusal) to every subscriber that asked', async () => {
    const refusal: ExecutionResult = { errors: [{ message: 'No segment seg-1', extensions: { code: 'NOT_FOUND' } }] as never };
    const joinable = new JoinableStreams({ maxQueued: 10, joinWindowMs: 1_000 });
    let calls = 0;
    const open = async () => (calls++, refusal);
    const [first, second] = await Promise.all([joinable.join('k', open), joinable.join('k', open)]);
    expect(calls).toBe(1);
    expect(first).toBe(refusal);
    expect(second).toBe(refusal);
  });
});
