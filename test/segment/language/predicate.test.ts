import { describe, expect, it } from 'vitest';
import {
  compilePredicate,
  explainMember,
  parseSegment,
  type Member,
  type PersonMember,
  type TargetEntity,
} from '../../../subgraphs/segment/language/index.js';
import { account, accountPerson, DAY, daysAgo, event, NOW, person } from './members.js';

/** Evaluates with the compiled predicate and checks that explain reaches the same answer. */
function holds(text: string, member: Member, target: TargetEntity = 'PERSON', now = NOW): boolean {
  const expr = parseSegment(text);
  const value = compilePredicate(expr, target)(member, now);
  expect(explainMember(expr, target, member, now).value, `explain of ${text}`).toBe(value);
  return value;
}

const withAttributes = (attributes: Record<string, unknown>): PersonMember => person({ attributes });

describe('missing fields', () => {
  const nobody = person({ jobTitle: null });
  it('make every comparison false, != included', () => {
    for (const text of ['leadScore >= 40', 'leadScore < 40', 'leadScore = 40', 'leadScore != 40', 'jobTitle != "VP"', 'jobTitle = "VP"']) {
      expect(holds(text, nobody), text).toBe(false);
    }
  });
  it('make in false and notIn true', () => {
    expect(holds('country in ["US"]', nobody)).toBe(false);
    expect(holds('country notIn ["US"]', nobody)).toBe(true);
    expect(holds('jobTitle notIn ["VP"]', nobody)).toBe(true);
    expect(holds('country notIn ["US"]', person({ country: 'US' }))).toBe(false);
    expect(holds('country notIn ["US"]', person({ country: 'CA' }))).toBe(true);
  });
  it('are flipped by not', () => {
    expect(holds('not leadScore >= 40', nobody)).toBe(true);
    expect(holds('not leadScore >= 40', person({ leadScore: 50 }))).toBe(false);
    expect(holds('not (leadScore != 40)', nobody)).toBe(true);
  });
  it('do not exist; an empty string does', () => {
    expect(holds('exists(jobTitle)', nobody)).toBe(false);
    expect(holds('exists(leadScore)', nobody)).toBe(false);
    expect(holds('exists(jobTitle)', person({ jobTitle: '' }))).toBe(true);
    expect(holds('exists(leadScore)', person({ leadScore: 0 }))).toBe(true);
  });
  it('include paths through null, scalars and arrays, and keys only inherited from Object.prototype', () => {
    expect(holds('consents.marketingEmail = "y"', person({ consents: null }))).toBe(false);
    expect(holds('consents.marketingEmail = "y"', person({ consents: { marketingEmail: 'y' } }))).toBe(true);
    expect(holds('exists(attributes.a.b)', withAttributes({ a: 'text' }))).toBe(false);
    expect(holds('exists(attributes.a.b)', withAttributes({ a: [{ b: 1 }] }))).toBe(false);
    expect(holds('exists(attributes.a.b)', withAttributes({ a: { b: 1 } }))).toBe(true);
    expect(holds('exists(attributes.constructor)', withAttributes({}))).toBe(false);
    expect(holds('exists(attributes.toString)', withAttributes({}))).toBe(false);
    expect(holds('attributes.constructor = 1', withAttributes({ constructor: 1 }))).toBe(true);
    expect(holds('exists(attributes.a.length)', withAttributes({ a: 'text' }))).toBe(false);
  });
  it('include account.<field> of a person without a primary account', () => {
    expect(holds('account.annualRevenue >= 100', person({ account: null }))).toBe(false);
    expect(holds('not account.annualRevenue >= 100', person({ account: null }))).toBe(true);
    expect(holds('account.annualRevenue >= 100', person({ account: { id: 'a', annualRevenue: 100 } }))).toBe(true);
  });
});

describe('comparisons across and within kinds', () => {
  it('across kinds: = false, != true, ordering false', () => {
    const member = withAttributes({ n: 1, s: '1', b: true, d: new Date(0), list: ['1'], object: { a: 1 } });
    for (const path of ['n', 's', 'b', 'd', 'list', 'object']) {
      // A literal of another kind than the value: the number 1 against the string "1", the string "1" against the rest.
      const literal = path === 's' ? '1' : '"1"';
      expect(holds(`attributes.${path} = ${literal}`, member), path).toBe(false);
      expect(holds(`attributes.${path} != ${literal}`, member), path).toBe(true);
      for (const op of ['<', '<=', '>', '>=']) expect(holds(`attributes.${path} ${op} ${literal}`, member), `${path} ${op}`).toBe(false);
    }
    expect(holds('attributes.d = "1970-01-01T00:00:00.000Z"', member)).toBe(false);
    expect(holds('attributes.n = true', member)).toBe(false);
  });
  it('orders strings by code point, not UTF-16 unit and not locale', () => {
    const emoji = withAttributes({ s: '\u{1F600}' });
    expect(holds('attributes.s > "\\uFFFD"', emoji)).toBe(true);
    expect(holds('attributes.s < "\\uFFFD"', emoji)).toBe(false);
    expect(holds('attributes.s > "\uFFFD"', emoji)).toBe(true);
    expect(holds('attributes.s < "a"', withAttributes({ s: 'B' }))).toBe(true);
    expect(holds('attributes.s > "z"', withAttributes({ s: 'é' }))).toBe(true);
    expect(holds('attributes.s < "ab"', withAttributes({ s: 'a' }))).toBe(true);
    expect(holds('attributes.s >= "a"', withAttributes({ s: 'a' }))).toBe(true);
  });
  it('compares numbers numerically; only finite numbers are numbers', () => {
    expect(holds('leadScore >= 40', person({ leadScore: 40 }))).toBe(true);
    expect(holds('leadScore > 40', person({ leadScore: 40 }))).toBe(false);
    expect(holds('leadScore = 0', person({ leadScore: -0 }))).toBe(true);
    expect(holds('leadScore < 100', person({ leadScore: 99.5 }))).toBe(true);
    expect(holds('leadScore > 40', person({ leadScore: Infinity }))).toBe(false);
    expect(holds('leadScore != 40', person({ leadScore: Infinity }))).toBe(true);
    expect(holds('leadScore < 40', person({ leadScore: -Infinity }))).toBe(false);
    expect(holds('leadScore < 40', person({ leadScore: NaN }))).toBe(false);
    expect(holds('leadScore != 40', person({ leadScore: NaN }))).toBe(true);
  });
  it('orders booleans false before true', () => {
    expect(holds('attributes.b > false', withAttributes({ b: true }))).toBe(true);
    expect(holds('attributes.b < true', withAttributes({ b: false }))).toBe(true);
    expect(holds('attributes.b >= true', withAttributes({ b: false }))).toBe(false);
    expect(holds('attributes.b = false', withAttributes({ b: false }))).toBe(true);
  });
  it('compares dates by time, with date(...) at midnight UTC and now the evaluation time', () => {
    const member = withAttributes({ d: new Date(Date.UTC(2026, 0, 31)) });
    expect(holds('attributes.d = date(2026, 1, 31)', member)).toBe(true);
    expect(holds('attributes.d < date(2026, 1, 31, 0, 0, 1)', member)).toBe(true);
    expect(holds('attributes.d < now', member)).toBe(true);
    expect(holds('attributes.d = now', withAttributes({ d: new Date(NOW) }))).toBe(true);
    expect(holds('attributes.d >= now', withAttributes({ d: new Date(NOW.getTime() - 1) }))).toBe(false);
    expect(holds('attributes.d != now', withAttributes({ d: new Date(Number.NaN) }))).toBe(true);
  });
  it('in matches by = for any listed value', () => {
    expect(holds('attributes.x in ["1", 2]', withAttributes({ x: 2 }))).toBe(true);
    expect(holds('attributes.x in ["1", 2]', withAttributes({ x: '2' }))).toBe(false);
    expect(holds('attributes.x notIn ["1", 2]', withAttributes({ x: '2' }))).toBe(true);
    expect(holds('attributes.x in [date(2026, 1, 1), now]', withAttributes({ x: new Date(NOW) }))).toBe(true);
    expect(holds('attributes.x in [date(2026, 1, 1)]', withAttributes({ x: new Date(Date.UTC(2026, 0, 1)) }))).toBe(true);
    expect(holds('attributes.x in [true]', withAttributes({ x: true }))).toBe(true);
    expect(holds('attributes.x in []', withAttributes({ x: 1 }))).toBe(false);
    expect(holds('attributes.x notIn []', withAttributes({ x: 1 }))).toBe(true);
    expect(holds('attributes.x in [1]', withAttributes({ x: [1] }))).toBe(false);
  });
});

describe('string functions', () => {
  const title = (jobTitle: unknown) => person({ jobTitle: jobTitle as string });
  it('are case-sensitive unless told otherwise, and false on anything but strings', () => {
    expect(holds('jobTitle.contains("vp")', title('VP Sales'))).toBe(false);
    expect(holds('jobTitle.contains("VP")', title('SVP Sales'))).toBe(true);
    expect(holds('jobTitle.contains("vp", false)', title('SVP Sales'))).toBe(true);
    expect(holds('jobTitle.contains("vp", true)', title('SVP Sales'))).toBe(false);
    expect(holds('jobTitle.startsWith("vp", false)', title('VP Sales'))).toBe(true);
    expect(holds('jobTitle.startsWith("Sales")', title('VP Sales'))).toBe(false);
    expect(holds('jobTitle.endsWith("SALES", false)', title('VP sales'))).toBe(true);
    expect(holds('jobTitle.endsWith("VP", false)', title('VP sales'))).toBe(false);
    expect(holds('attributes.n.contains("1")', withAttributes({ n: 1 }))).toBe(false);
    expect(holds('attributes.n.contains("1", false)', withAttributes({ n: ['1'] }))).toBe(false);
    expect(holds('jobTitle.contains("")', title(''))).toBe(true);
  });
  it('fold ASCII letters only', () => {
    expect(holds('jobTitle.contains("é", false)', title('É'))).toBe(false);
    expect(holds('jobTitle.contains("s", false)', title('\u017F'))).toBe(false);
    expect(holds('jobTitle.contains("k", false)', title('\u212A'))).toBe(false);
    expect(holds('jobTitle.contains("i", false)', title('\u0130'))).toBe(false);
    expect(holds('jobTitle.contains("a.b", false)', title('AxB'))).toBe(false);
    expect(holds('jobTitle.contains("a.b", false)', title('A.B'))).toBe(true);
  });
  it('matches: an unanchored search with no flags', () => {
    expect(holds('jobTitle.matches("Sales")', title('VP of Sales, EMEA'))).toBe(true);
    expect(holds('jobTitle.matches("sales")', title('VP of Sales'))).toBe(false);
    expect(holds('jobTitle.matches("^Sales")', title('VP of Sales'))).toBe(false);
    expect(holds('jobTitle.matches("^a.b$")', title('a\nb'))).toBe(false);
    expect(holds('attributes.n.matches("1")', withAttributes({ n: 1 }))).toBe(false);
  });
  it('like: whole string, % any run with newlines, _ one code point, all else literal', () => {
    const url = (value: string) => person({ events: [event('web.pageView', NOW, { url: value })] });
    expect(holds('events.any(url like "%pricing%")', url('https://x.com/pricing?a=1'))).toBe(true);
    expect(holds('events.any(url like "pricing")', url('/pricing'))).toBe(false);
    expect(holds('events.any(url like "%Pricing%")', url('/pricing'))).toBe(false);
    expect(holds('jobTitle like "a%b"', title('a\n\nb'))).toBe(true);
    expect(holds('jobTitle like "a%b"', title('ab'))).toBe(true);
    expect(holds('jobTitle like "%"', title(''))).toBe(true);
    expect(holds('jobTitle like ""', title(''))).toBe(true);
    expect(holds('jobTitle like "_"', title('\u{1F600}'))).toBe(true);
    expect(holds('jobTitle like "__"', title('\u{1F600}'))).toBe(false);
    expect(holds('jobTitle like "_"', title('\n'))).toBe(true);
    expect(holds('jobTitle like "a_c"', title('abc'))).toBe(true);
    expect(holds('jobTitle like "a.c"', title('abc'))).toBe(false);
    expect(holds('jobTitle like "a.c%"', title('a.c[d]'))).toBe(true);
    expect(holds('jobTitle like "\\\\%"', title('\\anything'))).toBe(true);
    expect(holds('jobTitle like "(a)+"', title('(a)+'))).toBe(true);
    expect(holds('jobTitle like "VP%"', title('vp sales'))).toBe(false);
    expect(holds('jobTitle like "%s"', title('VP Sales'))).toBe(true);
    expect(holds('jobTitle like "%"', title(null))).toBe(false);
    expect(holds('attributes.n like "1"', withAttributes({ n: 1 }))).toBe(false);
  });
});

describe('time windows', () => {
  const at = (timestamp: Date) => person({ events: [event('web.pageView', timestamp)] });
  const window = (condition: string, timestamp: Date) => holds(`events.any(timestamp ${condition})`, at(timestamp));
  it('include exactly N units before now in <= and >=, exclude it in < and >', () => {
    const edge = daysAgo(7);
    expect(window('occurs <= 7 days before now', edge)).toBe(true);
    expect(window('occurs < 7 days before now', edge)).toBe(false);
    expect(window('occurs >= 7 days before now', edge)).toBe(true);
    expect(window('occurs > 7 days before now', edge)).toBe(false);
    const past = new Date(edge.getTime() - 1);
    expect(window('occurs <= 7 days before now', past)).toBe(false);
    expect(window('occurs > 7 days before now', past)).toBe(true);
  });
  it('end at now: the future is not within the last N days', () => {
    expect(window('occurs <= 7 days before now', NOW)).toBe(true);
    expect(window('occurs < 7 days before now', NOW)).toBe(true);
    expect(window('occurs <= 7 days before now', new Date(NOW.getTime() + 1))).toBe(false);
    expect(window('occurs >= 0 days before now', new Date(NOW.getTime() + 1))).toBe(false);
    expect(window('occurs <= 0 minutes before now', NOW)).toBe(true);
  });
  it('count a month as 30 days and a week as 7', () => {
    expect(window('occurs <= 1 month before now', daysAgo(30))).toBe(true);
    expect(window('occurs <= 1 month before now', new Date(daysAgo(30).getTime() - 1))).toBe(false);
    expect(window('occurs <= 2 weeks before now', daysAgo(14))).toBe(true);
    expect(window('occurs <= 2 weeks before now', daysAgo(14.001))).toBe(false);
    expect(window('occurs <= 3 hours before now', new Date(NOW.getTime() - 3 * 3_600_000))).toBe(true);
    expect(window('occurs <= 90 minutes before now', new Date(NOW.getTime() - 91 * 60_000))).toBe(false);
  });
  it('between is inclusive at both ends and may use now', () => {
    const from = new Date(Date.UTC(2026, 0, 1));
    const to = new Date(Date.UTC(2026, 0, 31));
    const between = 'occurs between date(2026, 1, 1) and date(2026, 1, 31)';
    expect(window(between, from)).toBe(true);
    expect(window(between, to)).toBe(true);
    expect(window(between, new Date(from.getTime() - 1))).toBe(false);
    expect(window(between, new Date(to.getTime() + 1))).toBe(false);
    expect(window('occurs between date(2026, 1, 1) and now', NOW)).toBe(true);
    expect(window('occurs between now and date(2027, 1, 1)', new Date(NOW.getTime() - 1))).toBe(false);
  });
  it('are false for anything but a date', () => {
    expect(holds('attributes.d occurs <= 7 days before now', withAttributes({ d: NOW.toISOString() }))).toBe(false);
    expect(holds('attributes.d occurs <= 7 days before now', withAttributes({ d: NOW.getTime() }))).toBe(false);
    expect(holds('attributes.d occurs >= 7 days before now', withAttributes({}))).toBe(false);
    expect(holds('attributes.d occurs >= 7 days before now', withAttributes({ d: new Date(Number.NaN) }))).toBe(false);
  });
});

describe('lists', () => {
  it('includes: an array with an element = the value', () => {
    expect(holds('attributes.tags.includes("a")', withAttributes({ tags: ['b', 'a'] }))).toBe(true);
    expect(holds('attributes.tags.includes(1)', withAttributes({ tags: ['1'] }))).toBe(false);
    expect(holds('attributes.tags.includes("a")', withAttributes({ tags: 'a' }))).toBe(false);
    expect(holds('attributes.tags.includes("a")', withAttributes({ tags: 'abc' }))).toBe(false);
    expect(holds('attributes.tags.includes(date(2026, 1, 1))', withAttributes({ tags: [new Date(Date.UTC(2026, 0, 1))] }))).toBe(true);
    expect(holds('attributes.tags.includes("a")', withAttributes({ tags: [['a']] }))).toBe(false);
    expect(holds('attributes.tags.includes("a")', withAttributes({}))).toBe(false);
  });
  it('intersects: an array with an element = some listed value', () => {
    expect(holds('attributes.tags.intersects(["x", 2])', withAttributes({ tags: [1, 2] }))).toBe(true);
    expect(holds('attributes.tags.intersects(["x", 2])', withAttributes({ tags: ['2'] }))).toBe(false);
    expect(holds('attributes.tags.intersects([])', withAttributes({ tags: [1] }))).toBe(false);
    expect(holds('attributes.tags.intersects([1])', withAttributes({ tags: 1 }))).toBe(false);
  });
});

describe('relations', () => {
  const empty = person();
  it('all is true, any false and none true on an empty or missing relation', () => {
    expect(holds('events.all(type = "x")', empty)).toBe(true);
    expect(holds('events.any(type = "x")', empty)).toBe(false);
    expect(holds('events.none(type = "x")', empty)).toBe(true);
    expect(holds('events.count() = 0', empty)).toBe(true);
    const missing = { ...empty, events: undefined } as unknown as Member;
    expect(holds('events.all(type = "x") and events.none() and not events.any()', missing)).toBe(true);
  });
  it('read a malformed element (null) as one with no fields instead of failing', () => {
    const member = { ...person(), events: [null, event('email.open', NOW)] } as unknown as Member;
    expect(holds('events.count() = 2 and events.count(exists(type)) = 1 and not events.all(exists(type))', member)).toBe(true);
  });
  it('quantify over elements, with no condition meaning every element', () => {
    const member = person({ events: [event('email.open', NOW), event('web.pageView', NOW), event('email.open', daysAgo(40))] });
    expect(holds('events.any(type = "web.pageView")', member)).toBe(true);
    expect(holds('events.all(type = "email.open")', member)).toBe(false);
    expect(holds('events.all(exists(timestamp))', member)).toBe(true);
    expect(holds('events.none(type = "form.submit")', member)).toBe(true);
    expect(holds('events.count() = 3', member)).toBe(true);
    expect(holds('events.count(type = "email.open") >= 2', member)).toBe(true);
    expect(holds('events.count(type = "email.open" and timestamp occurs <= 30 days before now) >= 2', member)).toBe(false);
    expect(holds('events.count(type = "email.open") != 2', member)).toBe(false);
    expect(holds('events.any()', member)).toBe(true);
    expect(holds('events.none()', member)).toBe(false);
    expect(holds('events.all()', member)).toBe(true);
  });
  it('read relation fields over the related record on a person', () => {
    const member = person({
      accounts: [{ id: 'a', name: 'Acme', isPrimary: false, jobRole: 'Buyer' }],
      opportunities: [{ id: 'o', stage: 'Negotiation', isPrimary: true, role: 'Decision Maker' }],
    });
    expect(holds('accounts.any(name = "Acme" and jobRole = "Buyer" and isPrimary = false)', member)).toBe(true);
    expect(holds('opportunities.any(role = "Decision Maker" and stage notIn ["Closed Won", "Closed Lost"])', member)).toBe(true);
  });
  it('reach each person and that person\'s events on an account', () => {
    const member = account({
      people: [
        accountPerson({ id: 'p1', jobTitle: 'CTO', events: [event('email.open', NOW)] }),
        accountPerson({ id: 'p2', isPrimary: true, events: [] }),
      ],
    });
    expect(holds('people.count() = 2', member, 'ACCOUNT')).toBe(true);
    expect(holds('people.any(isPrimary = true and jobTitle = "CTO")', member, 'ACCOUNT')).toBe(false);
    expect(holds('people.count(events.any(type = "email.open")) = 1', member, 'ACCOUNT')).toBe(true);
    expect(holds('people.all(events.any())', member, 'ACCOUNT')).toBe(false);
  });
});

describe('inSegment and constants', () => {
  it('reads the member\'s segments, or the person\'s inside people', () => {
    expect(holds('inSegment("s1")', person({ segments: ['s1'] }))).toBe(true);
    expect(holds('inSegment("s2")', person({ segments: ['s1'] }))).toBe(false);
    expect(holds('inSegment("s1")', { ...person(), segments: undefined } as unknown as Member)).toBe(false);
    const member = account({ segments: ['big'], people: [accountPerson({ segments: ['s1'] })] });
    expect(holds('inSegment("big")', member, 'ACCOUNT')).toBe(true);
    expect(holds('people.any(inSegment("s1"))', member, 'ACCOUNT')).toBe(true);
    expect(holds('people.any(inSegment("big"))', member, 'ACCOUNT')).toBe(false);
  });
  it('true and false, and the boolean operators', () => {
    expect(holds('true', person())).toBe(true);
    expect(holds('false', person())).toBe(false);
    expect(holds('true and false or true', person())).toBe(true);
    expect(holds('not true or false', person())).toBe(false);
    expect(holds('true and true and true and not false', person())).toBe(true);
    expect(holds('false or false or false or true', person())).toBe(true);
  });
});

describe('compilePredicate', () => {
  it('is reusable across members and evaluation times', () => {
    const predicate = compilePredicate(parseSegment('events.any(timestamp occurs <= 1 day before now)'), 'PERSON');
    const member = person({ events: [event('x', NOW)] });
    expect(predicate(member, NOW)).toBe(true);
    expect(predicate(member, new Date(NOW.getTime() + DAY))).toBe(true);
    expect(predicate(member, new Date(NOW.getTime() + DAY + 1))).toBe(false);
    expect(predicate(person(), NOW)).toBe(false);
  });

  it('shares a relation scan between segments with the same condition, answering each member for itself', () => {
    const once = compilePredicate(parseSegment('events.count(type = "email.open") >= 1'), 'PERSON');
    const twice = compilePredicate(parseSegment('events.count(type = "email.open") >= 2 and not events.any(type = "form.submit")'), 'PERSON');
    const anyOpen = compilePredicate(parseSegment('events.any(type = "email.open")'), 'PERSON');
    const one = person({ events: [event('email.open', NOW)] });
    const two = person({ events: [event('email.open', NOW), event('email.open', daysAgo(1))] });
    const submitted = person({ events: [event('email.open', NOW), event('email.open', NOW), event('form.submit', NOW)] });
    // Member by member, segment by segment, and back: no member sees another's count.
    for (const member of [one, two, submitted, one]) {
      const opens = member.events.filter((e) => e.type === 'email.open').length;
      expect(once(member, NOW)).toBe(opens >= 1);
      expect(twice(member, NOW)).toBe(opens >= 2 && member !== submitted);
      expect(anyOpen(member, NOW)).toBe(true);
    }
    expect([one, two, submitted].map((member) => twice(member, NOW))).toEqual([false, true, false]);
    expect(anyOpen(person(), NOW)).toBe(false);
  });
});
