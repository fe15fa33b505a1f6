/**
 * The pipeline's shape: a prefilter first only when it is safe, joins only for what the segment
 * uses with its conditions pushed inside them, literal dates for windows, `{ _id }` sorted last.
 */
import { describe, expect, it } from 'vitest';
import type { Document } from 'mongodb';
import { buildSegmentPipeline } from '../../../subgraphs/segment/evaluation/pipeline.js';
import { parseSegment, type TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { DAY, NOW } from './support.js';

function build(text: string, target: TargetEntity = 'PERSON') {
  return buildSegmentPipeline(parseSegment(text), { target, now: NOW });
}

/** The leading plain `$match` (not the final `$expr` decision), if any. */
const prefilterOf = (stages: Document[]): Document | undefined => {
  const match = stages[0]?.$match as Document | undefined;
  return match && !('$expr' in match) ? match : undefined;
};

const lookups = (stages: Document[]): Document[] => stages.filter((stage) => '$lookup' in stage).map((stage) => stage.$lookup as Document);

describe('buildSegmentPipeline', () => {
  it('runs on the target collection and ends with { _id } sorted by _id', () => {
    const person = build('country = "US"');
    expect(person.collectionName).toBe('people');
    expect(person.pipeline.slice(-2)).toEqual([{ $project: { _id: 1 } }, { $sort: { _id: 1 } }]);
    expect(build('country = "US"', 'ACCOUNT').collectionName).toBe('accounts');
  });

  it('prefilters on the member\'s own fields first, with typed ranges', () => {
    expect(prefilterOf(build('country = "US" and leadScore >= 40').pipeline)).toEqual({ $and: [{ country: 'US' }, { leadScore: { $gte: 40 } }] });
    expect(prefilterOf(build('id in ["a", "b"] or consents.marketingEmail = "y"').pipeline)).toEqual({
      $or: [{ _id: { $in: ['a', 'b'] } }, { 'consents.marketingEmail': 'y' }],
    });
    expect(prefilterOf(build('country = "US" and events.any()').pipeline)).toEqual({ country: 'US' });
  });

  it('never prefilters where MongoDB\'s meaning differs', () => {
    for (const text of ['country != "US"', 'country notIn ["US"]', 'not leadScore >= 40', 'country = "US" or events.any()', 'jobTitle > "VP"', 'jobTitle.contains("vp")', 'account.industry = "Software"']) {
      expect(prefilterOf(build(text).pipeline), text).toBeUndefined();
    }
  });

  it('joins only the relations a segment uses', () => {
    expect(lookups(build('country = "US" and leadScore >= 40').pipeline)).toEqual([]);
    expect(lookups(build('events.any(type = "email.open")').pipeline).map((lookup) => lookup.from)).toEqual(['events']);
    expect(lookups(build('account.annualRevenue >= 1').pipeline).map((lookup) => lookup.from)).toEqual(['accountPersonRelations']);
    expect(lookups(build('inSegment("s1")').pipeline).map((lookup) => lookup.from)).toEqual(['segmentMemberships']);
    expect(lookups(build('opportunities.none(stage = "Closed Won")', 'ACCOUNT').pipeline).map((lookup) => lookup.from)).toEqual(['opportunities']);
  });

  it('pushes an event condition into the events lookup on indexed fields, reduced to a capped count', () => {
    const [lookup] = lookups(build('events.count(type = "web.pageView" and timestamp occurs <= 30 days before now) >= 3').pipeline);
    expect(lookup).toMatchObject({ from: 'events', localField: 'identityKeys', foreignField: 'identityKey' });
    const pipeline = lookup!.pipeline as Document[];
    expect(pipeline[0]).toEqual({
      $match: { $and: [{ type: 'web.pageView' }, { timestamp: { $gte: new Date(NOW.getTime() - 30 * DAY), $lte: NOW } }] },
    });
    expect(pipeline.slice(-2)).toEqual([{ $limit: 4 }, { $count: 'n' }]);
  });

  it('joins account links on link keys, then each link\'s account by _id', () => {
    const [lookup] = lookups(build('accounts.any(industry = "Software" and isPrimary = true)').pipeline);
    expect(lookup).toMatchObject({ from: 'accountPersonRelations', localField: 'linkKeys', foreignField: 'personKey' });
    const [target] = lookups(lookup!.pipeline as Document[]);
    expect(target).toMatchObject({ from: 'accounts', localField: 'accountId', foreignField: '_id' });
    // The account's own field filters the account; the link's field is decided after the join.
    expect((target!.pipeline as Document[])[0]).toEqual({ $match: { industry: 'Software' } });
  });

  it('joins an account\'s people through links to people\'s link keys', () => {
    const [lookup] = lookups(build('people.any(country = "US" and events.any())', 'ACCOUNT').pipeline);
    expect(lookup).toMatchObject({ from: 'accountPersonRelations', localField: '_id', foreignField: 'accountId' });
    const [people, events] = lookups(lookup!.pipeline as Document[]);
    expect(people).toMatchObject({ from: 'people', localField: 'personKey', foreignField: 'linkKeys', pipeline: [{ $match: { country: 'US' } }] });
    expect(events).toMatchObject({ from: 'events', localField: 'identityKeys' });
  });

  it('writes time windows as literal dates from the evaluation time', () => {
    const text = JSON.stringify(build('attributes.signup occurs < 2 hours before now').pipeline);
    expect(text).toContain(new Date(NOW.getTime() - 2 * 3_600_000).toISOString());
    expect(text).not.toContain('$$NOW');
  });
});
