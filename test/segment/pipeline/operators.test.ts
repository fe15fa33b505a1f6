/**
 * Every operator and semantic rule of the segment language on the pipeline back end, against
 * hand-built people: which members each condition selects. The compiled predicate over
 * `loadMembers` is checked to agree on every case too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { DAY, Data, NOW, daysAgo, openPipelineSuite, pipelineMembers, predicateMembers, type PipelineSuite } from './support.js';

let suite: PipelineSuite;
const PEOPLE = ['p1', 'p2', 'p3', 'p4', 'p5'];

beforeAll(async () => {
  suite = await openPipelineSuite('operators');
  const data = new Data(suite.db);
  await data.person('p1', {
    country: 'US',
    leadScore: 50,
    jobTitle: 'VP Sales',
    consents: { marketingEmail: 'y' },
    attributes: {
      tier: 'gold',
      tags: ['a', 'b'],
      score: '42',
      signup: daysAgo(3),
      nested: { deep: { x: 1 } },
      list: [{ x: 1 }],
      city: 'Émile',
      flag: true,
    },
  });
  await data.person('p2', {
    country: 'CA',
    leadScore: 40,
    jobTitle: 'vp marketing',
    consents: { marketingEmail: 'n' },
    attributes: { tier: 1, tags: 'a', score: 42, signup: daysAgo(7), city: 'émile', flag: false },
  });
  await data.person('p3', {
    country: null,
    leadScore: '55',
    jobTitle: 'Director\nof IT',
    attributes: { tier: null, tags: [1, 'b'], signup: new Date(NOW.getTime() + 3_600_000), city: '\u212Aelvin', flag: 'true' },
  });
  await data.person('p4', { jobTitle: '\u{1F600} emoji', consents: null, attributes: { signup: daysAgo(30), city: 'kelvin', score: Number.NaN } });
  await data.person('p5', {
    country: 'us',
    leadScore: 39.5,
    jobTitle: '\uFFFD',
    attributes: { tags: [], signup: '2026-06-12', city: 'pricing\n', score: Number.POSITIVE_INFINITY, tier: ['gold'] },
  });
}, 60_000);
afterAll(async () => {
  await suite.close();
});

/** [expression, members] pairs, person target. */
const CASES: Record<string, Array<[string, string[]]>> = {
  'comparison: MISSING is false for every operator, != included': [
    ['country = "US"', ['p1']],
    ['country != "US"', ['p2', 'p5']],
    ['not country = "US"', ['p2', 'p3', 'p4', 'p5']],
    ['leadScore >= 40', ['p1', 'p2']],
    ['not leadScore >= 40', ['p3', 'p4', 'p5']],
    ['leadScore < 40', ['p5']],
    ['consents.marketingEmail = "n"', ['p2']],
    ['consents.marketingEmail != "n"', ['p1']],
  ],
  'comparison across kinds: = false, != true, ordering false': [
    ['leadScore != 40', ['p1', 'p3', 'p5']],
    ['leadScore > 0', ['p1', 'p2', 'p5']],
    ['attributes.tier = "gold"', ['p1']],
    ['attributes.tier != "gold"', ['p2', 'p5']],
    ['attributes.tier > 0', ['p2']],
    ['attributes.score = 42', ['p2']],
    ['attributes.score >= 0', ['p2']],
    ['attributes.score < 100', ['p2']],
    ['attributes.score != 42', ['p1', 'p4', 'p5']],
    ['attributes.flag = true', ['p1']],
    ['attributes.flag > false', ['p1']],
    ['attributes.flag != true', ['p2', 'p3']],
    ['attributes.signup < now', ['p1', 'p2', 'p4']],
    ['attributes.signup >= date(2026, 6, 12)', ['p1', 'p3']],
    ['attributes.signup = "2026-06-12"', ['p5']],
  ],
  'arrays and objects are of kind other, and paths never descend into arrays': [
    ['attributes.tags = "a"', ['p2']],
    ['attributes.tags != "a"', ['p1', 'p3', 'p5']],
    ['attributes.nested != "x"', ['p1']],
    ['attributes.nested.deep.x = 1', ['p1']],
    ['attributes.list.x = 1', []],
    ['exists(attributes.list.x)', []],
    ['attributes.tier.x != 1', []],
  ],
  'strings order by code point': [
    ['jobTitle > "\uFFFD"', ['p4']],
    ['jobTitle >= "\uFFFD"', ['p4', 'p5']],
    ['jobTitle < "a"', ['p1', 'p3']],
    ['jobTitle <= "vp marketing"', ['p1', 'p2', 'p3']],
  ],
  'in and notIn': [
    ['country in ["US", "CA"]', ['p1', 'p2']],
    ['country notIn ["US", "CA"]', ['p3', 'p4', 'p5']],
    ['attributes.tier in ["gold", 1]', ['p1', 'p2']],
    ['attributes.tier notIn ["gold", 1]', ['p3', 'p4', 'p5']],
    ['country in []', []],
    ['country notIn []', PEOPLE],
  ],
  'exists: present and not null; an empty string exists': [
    ['exists(country)', ['p1', 'p2', 'p5']],
    ['exists(consents.marketingEmail)', ['p1', 'p2']],
    ['exists(attributes.tier)', ['p1', 'p2', 'p5']],
  ],
  'contains, startsWith, endsWith: strings only, ASCII-only case folding': [
    ['jobTitle.contains("VP")', ['p1']],
    ['jobTitle.contains("vp", false)', ['p1', 'p2']],
    ['jobTitle.startsWith("VP", false)', ['p1', 'p2']],
    ['jobTitle.endsWith("Sales")', ['p1']],
    ['jobTitle.endsWith("SALES", false)', ['p1']],
    ['attributes.city.startsWith("é", false)', ['p2']],
    ['attributes.city.startsWith("É")', ['p1']],
    ['attributes.city.startsWith("k", false)', ['p4']],
    ['attributes.city.endsWith("pricing")', []],
    ['attributes.score.contains("4")', ['p1']],
    ['attributes.tags.contains("a")', ['p2']],
    ['jobTitle.contains("")', PEOPLE],
  ],
  'matches: an unanchored search with no flags': [
    ['jobTitle.matches("^VP")', ['p1']],
    ['jobTitle.matches("Sales$")', ['p1']],
    ['jobTitle.matches("Director.of")', []],
    ['jobTitle.matches("of.IT")', ['p3']],
    ['attributes.city.matches("pricing$")', []],
    ['jobTitle.matches("\\u00c9|vp")', ['p2']],
    ['attributes.score.matches("4")', ['p1']],
  ],
  'like: the whole string, % any run, _ one code point, case-sensitive': [
    ['jobTitle like "VP%"', ['p1']],
    ['jobTitle like "%sales"', []],
    ['jobTitle like "Director%IT"', ['p3']],
    ['jobTitle like "_ emoji"', ['p4']],
    ['jobTitle like "_"', ['p5']],
    ['attributes.city like "pricing"', []],
    ['attributes.city like "pricing%"', ['p5']],
    ['attributes.score like "4_"', ['p1']],
    ['jobTitle like "%"', PEOPLE],
  ],
  'occurs: windows relative to now, a month is 30 days, between inclusive': [
    ['attributes.signup occurs <= 7 days before now', ['p1', 'p2']],
    ['attributes.signup occurs < 7 days before now', ['p1']],
    ['attributes.signup occurs >= 7 days before now', ['p2', 'p4']],
    ['attributes.signup occurs > 7 days before now', ['p4']],
    ['attributes.signup occurs <= 1 months before now', ['p1', 'p2', 'p4']],
    ['attributes.signup occurs < 4 weeks before now', ['p1', 'p2']],
    ['attributes.signup occurs <= 72 hours before now', ['p1']],
    ['attributes.signup occurs <= 0 minutes before now', []],
    ['attributes.signup occurs between date(2026, 6, 12) and now', ['p1']],
    ['attributes.signup occurs between date(2026, 6, 8, 12) and date(2026, 6, 12, 12)', ['p1', 'p2']],
    ['attributes.signup occurs between now and date(2027, 1, 1)', ['p3']],
  ],
  'includes and intersects: arrays only, elements compared by =': [
    ['attributes.tags.includes("a")', ['p1']],
    ['attributes.tags.includes(1)', ['p3']],
    ['attributes.tier.includes("gold")', ['p5']],
    ['attributes.tags.intersects(["b", 2])', ['p1', 'p3']],
    ['attributes.tags.intersects([])', []],
  ],
  'not, and, or, constants': [
    ['true', PEOPLE],
    ['false', []],
    ['not (country = "US" or leadScore >= 40)', ['p3', 'p4', 'p5']],
    ['country = "US" and leadScore >= 40 or jobTitle like "_"', ['p1', 'p5']],
  ],
};

describe('the pipeline selects exactly the members the semantics say', () => {
  for (const [rule, cases] of Object.entries(CASES)) {
    it(rule, async () => {
      for (const [expression, members] of cases) {
        expect(await pipelineMembers(suite.db, expression, 'PERSON'), expression).toEqual(members);
      }
    });
  }

  it('agrees with the compiled predicate on every case', async () => {
    for (const cases of Object.values(CASES)) {
      for (const [expression] of cases) {
        const target: TargetEntity = 'PERSON';
        expect(await predicateMembers(suite.db, expression, target, PEOPLE), expression).toEqual(await pipelineMembers(suite.db, expression, target));
      }
    }
  });

  it('reads time windows from the evaluation time it is given', async () => {
    const later = new Date(NOW.getTime() + 5 * DAY);
    expect(await pipelineMembers(suite.db, 'attributes.signup occurs <= 10 days before now', 'PERSON')).toEqual(['p1', 'p2']);
    expect(await pipelineMembers(suite.db, 'attributes.signup occurs <= 10 days before now', 'PERSON', later)).toEqual(['p1', 'p3']);
  });
});
