import { describe, expect, it } from 'vitest';
import { compileSegment, SegmentLanguageError, type CheckOptions, type TargetEntity } from '../../../subgraphs/segment/language/index.js';

const SEGMENTS: Record<string, TargetEntity> = { 'vp-people': 'PERSON', engaged: 'PERSON', 'big-accounts': 'ACCOUNT' };
const options = (target: TargetEntity): CheckOptions => ({ target, segmentTarget: (id) => SEGMENTS[id] });

function typeError(text: string, target: TargetEntity = 'PERSON'): SegmentLanguageError {
  try {
    compileSegment(text, options(target));
  } catch (error) {
    expect(error).toBeInstanceOf(SegmentLanguageError);
    expect((error as SegmentLanguageError).kind).toBe('type');
    return error as SegmentLanguageError;
  }
  throw new Error(`expected a type error for ${text}`);
}

describe('compileSegment: the data model', () => {
  it('accepts every field of each scope with fitting operators', () => {
    const person = [
      'id = "p-1"',
      'firstName.startsWith("A") and lastName like "S%" and workEmail.endsWith("@acme.com") and phone != "1"',
      'jobTitle.contains("vp", false) and country in ["US", "CA"] and leadScore >= 40 and leadStatus = "MQL"',
      'consents.marketingEmail = "y" and exists(consents) and exists(account)',
      'attributes.tier = "gold" and attributes.tags.includes("a") and attributes.x.y occurs <= 3 days before now',
      'account.annualRevenue >= 100000000 and account.industry = "Software" and account.attributes.plan = 1',
      'events.any(id = "e" and type = "web.pageView" and url.matches("/pricing") and campaign = "c" and timestamp occurs <= 7 days before now and attributes.a = 1)',
      'accounts.any(isPrimary = true and jobRole = "Buyer" and name = "Acme" and domain = "acme.com" and employees > 10 and type = "Customer")',
      'opportunities.any(role = "Decision Maker" and isPrimary = false and stage notIn ["Closed Won"] and amount > 1 and currency = "USD" and closeDate occurs between date(2026, 1, 1) and now and isClosed = false and isWon = false and accountId = "a")',
      'inSegment("vp-people")',
    ];
    for (const text of person) expect(() => compileSegment(text, options('PERSON')), text).not.toThrow();
    const account = [
      'name = "Acme" and annualRevenue > 1 and employees <= 5 and industry = "x" and country = "US" and domain.endsWith(".com") and type = "x"',
      'people.count(jobRole = "x" and isPrimary = true and leadScore > 3 and events.any(type = "email.open") and inSegment("engaged")) >= 2',
      'opportunities.none(stage = "Closed Won" and closeDate > date(2026, 1, 1))',
      'inSegment("big-accounts")',
    ];
    for (const text of account) expect(() => compileSegment(text, options('ACCOUNT')), text).not.toThrow();
  });

  it('answers the canonical text, the segments used and whether time alone can change the result', () => {
    const checked = compileSegment('inSegment("engaged")   and (inSegment("vp-people") or inSegment("engaged"))', options('PERSON'));
    expect(checked.canonical).toBe('inSegment("engaged") and (inSegment("vp-people") or inSegment("engaged"))');
    expect(checked.dependsOn).toEqual(['engaged', 'vp-people']);
    expect(checked.timeDependent).toBe(false);
    expect(compileSegment('events.any(timestamp occurs <= 1 day before now)', options('PERSON')).timeDependent).toBe(true);
    expect(compileSegment('opportunities.any(closeDate < now)', options('PERSON')).timeDependent).toBe(true);
    expect(compileSegment('opportunities.any(closeDate occurs between date(2026, 1, 1) and date(2026, 2, 1))', options('PERSON')).timeDependent).toBe(false);
  });
});

describe('compileSegment: type errors', () => {
  it('suggests the closest field for an unknown one and points at the path', () => {
    const error = typeError('leadScore > 3 and\n  jobTitel = "VP"');
    expect(error).toMatchObject({ line: 2, column: 3, suggestion: 'jobTitle' });
    expect(error.message).toBe('Type error at line 2, column 3: unknown field `jobTitel` on a person; did you mean `jobTitle`?');
    expect(typeError('jobtitle = "x"').suggestion).toBe('jobTitle');
    expect(typeError('consents.marketingemail = "y"').suggestion).toBe('consents.marketingEmail');
    expect(typeError('account.annualRevenu > 1').suggestion).toBe('account.annualRevenue');
    expect(typeError('events.any(timestamps occurs <= 1 day before now)').suggestion).toBe('timestamp');
    expect(typeError('zzzzzzzz = 1').suggestion).toBeUndefined();
  });

  it('refuses operators that do not fit the field type', () => {
    expect(typeError('leadScore = "x"')).toMatchObject({ column: 13 });
    expect(typeError('leadScore = "x"').message).toContain('`leadScore` is a number');
    expect(typeError('country in ["US", 1]')).toMatchObject({ column: 19 });
    expect(typeError('jobTitle occurs <= 7 days before now').message).toContain('occurs applies to dates');
    expect(typeError('annualRevenue.contains("x")', 'ACCOUNT').message).toContain('.contains(...) applies to strings; `annualRevenue` is a number');
    expect(typeError('jobTitle.includes("x")').message).toContain('.includes(...) applies to lists');
    expect(typeError('country.intersects(["x"])').message).toContain('.intersects(...) applies to lists');
    expect(typeError('leadScore like "1%"').message).toContain('like applies to strings');
    expect(typeError('opportunities.any(isWon = "yes")').message).toContain('a boolean');
    expect(typeError('events.any(timestamp > 3)').message).toContain('a date');
    expect(typeError('consents = "y"').message).toContain('is an object');
    expect(typeError('jobTitle.first = "x"').message).toContain('`jobTitle` is a string and has no field `first`');
  });

  it('refuses relations outside their scope, naming where they may be used', () => {
    const events = typeError('accounts.any(events.any())');
    expect(events).toMatchObject({ column: 14 });
    expect(events.message).toContain('`events` cannot be used on an element of accounts; it may be used on a person');
    expect(typeError('people.any()').message).toContain('`people` cannot be used on a person; it may be used at the top level of an account segment');
    expect(typeError('accounts.any()', 'ACCOUNT').message).toContain('at the top level of a person segment');
    expect(typeError('people.any(opportunities.any())', 'ACCOUNT').message).toContain('cannot be used on an element of people');
    const primary = typeError('account.name = "x"', 'ACCOUNT');
    expect(primary.message).toContain("`account.<field>` cannot be used on an account; it may be used at the top level of a person segment");
    expect(primary.suggestion).toBe('name');
    expect(typeError('accounts.any(account.name = "x")').message).toContain('cannot be used on an element of accounts');
    expect(typeError('events = 1').message).toContain('`events` is a relation, not a field: use events.any(...)');
    expect(typeError('exists(events)').message).toContain('is a relation');
  });

  it('checks inSegment: the segment exists and its target fits the scope', () => {
    const unknown = typeError('leadScore > 1 and inSegment("nope")');
    expect(unknown).toMatchObject({ column: 29 });
    expect(unknown.message).toContain('unknown segment "nope"');
    expect(typeError('inSegment("big-accounts")').message).toContain('is an ACCOUNT segment; on a person inSegment(...) needs a PERSON segment');
    expect(typeError('inSegment("vp-people")', 'ACCOUNT').message).toContain('needs an ACCOUNT segment');
    expect(typeError('people.any(inSegment("big-accounts"))', 'ACCOUNT').message).toContain('needs a PERSON segment');
    expect(typeError('events.any(inSegment("vp-people"))').message).toContain('inSegment(...) cannot be used on an element of events');
    expect(() => compileSegment('inSegment("vp-people")', { target: 'PERSON' })).toThrow(/unknown segment/);
  });

  it('refuses a regular expression that does not compile, at the pattern', () => {
    const error = typeError('jobTitle.matches("(vp")');
    expect(error).toMatchObject({ line: 1, column: 18 });
    expect(error.message).toContain('invalid regular expression');
  });

  it('requires counts to be whole numbers of zero or more, and windows to be zero or more', () => {
    expect(typeError('events.count() >= 1.5')).toMatchObject({ column: 19 });
    expect(typeError('events.count() >= -1').message).toContain('whole number of zero or more');
    expect(typeError('events.any(timestamp occurs <= -1 days before now)').message).toContain('zero or more');
  });
});
