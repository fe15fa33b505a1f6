import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import { openConformance, eventually, sleep, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
const agendas: Agenda[] = [];
beforeAll(async () => { ctx = await openConformance('agenda'); });
afterAll(async () => {
  await Promise.all(agendas.map((a) => a.stop()));
  await ctx.close();
});

function makeAgenda(name: string): Agenda {
  // processEvery as a number of ms (a string like '100 ms' is parsed differently by agenda 6).
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: ctx.db, collection: 'jobs' }), processEvery: 100, name });
  agendas.push(agenda);
  return agenda;
}

describe('Agenda 6 with the MongoDB backend', () => {
  it('runs a job scheduled now and a repeating job', async () => {
    const agenda = makeAgenda('worker-1');
    const runs: string[] = [];
    agenda.define('once', async (job) => { runs.push(`once:${(job.attrs.data as { n: number }).n}`); });
    let repeats = 0;
    agenda.define('repeat', async () => { repeats++; });
    await agenda.start();
    await agenda.now('once', { n: 7 });
    await agenda.every(1000, 'repeat');
    await eventually(async () => (runs.length > 0 ? true : undefined), 10_000);
    expect(runs).toEqual(['once:7']);
    await eventually(async () => (repeats >= 2 ? true : undefined), 10_000);
    const stored = await ctx.db.collection('jobs').findOne({ name: 'repeat' });
    expect(stored).toMatchObject({ name: 'repeat', type: 'single', repeatInterval: 1000 });
    await agenda.stop();
  });

  it('locks a job so that two workers do not both run it', async () => {
    const a = makeAgenda('worker-a');
    const b = makeAgenda('worker-b');
    const runs: string[] = [];
    for (const [agenda, who] of [[a, 'a'], [b, 'b']] as const) {
      agenda.define('exclusive', async () => {
        runs.push(who);
        // The job's work, not a wait for anything: long enough that the other worker would pick the job up too if its lock did not hold.
        await sleep(300);
      }, { concurrency: 1 });
    }
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 5; i++) await a.now('exclusive', { i });
    // Every job finished: a second run of any of them would have started by now (runs are recorded at start).
    const finished = { name: 'exclusive', lastFinishedAt: { $type: 'date' } };
    await expect.poll(() => ctx.db.collection('jobs').countDocuments(finished), { timeout: 15_000 }).toBe(5);
    expect(runs).toHaveLength(5);
    const jobs = await ctx.db.collection('jobs').find({ name: 'exclusive' }).toArray();
    expect(jobs).toHaveLength(5);
    for (const job of jobs) expect(job.lastFinishedAt).toBeInstanceOf(Date);
  });
});
