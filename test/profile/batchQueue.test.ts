/** The per-sandbox queue of person batches: side by side unless they share a key, at most N at once. */
import { describe, expect, it } from 'vitest';
import { createBatchQueue } from '../../subgraphs/profile/batchQueue.js';

/** Work that records when it starts and finishes only when told to. */
function gatedWork(log: string[], name: string) {
  let finish!: (value: string) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    work: () => {
      log.push(`start ${name}`);
      return done;
    },
    finish: () => finish(name),
    fail: (error: Error) => fail(error),
  };
}

// The queue is promises only, with no I/O: once a macrotask runs, every promise reaction it could take has run.
const settle = () => new Promise((resolve) => setImmediate(resolve));
const keys = (...list: string[]) => new Set(list);

describe('batch queue', () => {
  it('runs batches with no key in common side by side, and a batch sharing a key after the earlier one', async () => {
    const queue = createBatchQueue(4);
    const log: string[] = [];
    const a = gatedWork(log, 'a');
    const b = gatedWork(log, 'b');
    const c = gatedWork(log, 'c');
    const ran = [
      queue.run('sb', keys('Email:x', 'b2b_person:1'), a.work),
      queue.run('sb', keys('Email:y'), b.work),
      queue.run('sb', keys('b2b_person:1', 'ECID:9'), c.work),
    ];
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    a.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    c.finish();
    expect(await Promise.all(ran)).toEqual(['a', 'b', 'c']);
  });

  it('keeps order along a chain of shared keys', async () => {
    const queue = createBatchQueue(4);
    const log: string[] = [];
    const a = gatedWork(log, 'a');
    const b = gatedWork(log, 'b');
    const c = gatedWork(log, 'c');
    const ran = [queue.run('sb', keys('k1'), a.work), queue.run('sb', keys('k1', 'k2'), b.work), queue.run('sb', keys('k2'), c.work)];
    await settle();
    expect(log).toEqual(['start a']);
    a.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    await settle();
    c.finish();
    await Promise.all(ran);
    expect(log).toEqual(['start a', 'start b', 'start c']);
  });

  it('runs at most the cap at once, the next starting when the oldest ends', async () => {
    const queue = createBatchQueue(2);
    const log: string[] = [];
    const works = ['a', 'b', 'c'].map((name) => gatedWork(log, name));
    const ran = works.map((work, n) => queue.run('sb', keys(`k${n}`), work.work));
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    works[0]!.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    works[1]!.finish();
    works[2]!.finish();
    await Promise.all(ran);
  });

  it('a failed batch fails its caller only; the batches waiting for it go on', async () => {
    const queue = createBatchQueue(4);
    const log: string[] = [];
    const a = gatedWork(log, 'a');
    const b = gatedWork(log, 'b');
    const first = queue.run('sb', keys('k'), a.work);
    const second = queue.run('sb', keys('k'), b.work);
    a.fail(new Error('lost the database'));
    await expect(first).rejects.toThrow('lost the database');
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    expect(await second).toBe('b');
  });

  it('keeps sandboxes apart: the same key in two sandboxes does not wait', async () => {
    const queue = createBatchQueue(1);
    const log: string[] = [];
    const a = gatedWork(log, 'a');
    const b = gatedWork(log, 'b');
    const ran = [queue.run('sb1', keys('k'), a.work), queue.run('sb2', keys('k'), b.work)];
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    a.finish();
    b.finish();
    await Promise.all(ran);
  });
});
