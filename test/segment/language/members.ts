/** Member documents for the language's unit tests: small factories and a seeded random one. */
import type {
  AccountMember,
  AccountPersonElement,
  EventFields,
  PersonMember,
  TargetEntity,
  Member,
} from '../../../subgraphs/segment/language/index.js';
import { FIXTURE_VALUES, type Random } from '../../../lib/fixtures/segmentExpressions.js';

export const NOW = new Date(Date.UTC(2026, 5, 15, 12));
export const DAY = 86_400_000;
export const daysAgo = (days: number, from = NOW) => new Date(from.getTime() - days * DAY);

export function person(fields: Partial<PersonMember> = {}): PersonMember {
  return { id: 'p-1', events: [], accounts: [], opportunities: [], account: null, segments: [], ...fields };
}

export function account(fields: Partial<AccountMember> = {}): AccountMember {
  return { id: 'a-1', people: [], opportunities: [], segments: [], ...fields };
}

let eventIds = 0;
export function event(type: string, timestamp: Date, fields: Partial<EventFields> = {}): EventFields {
  return { id: `e-${++eventIds}`, type, timestamp, ...fields };
}

export function accountPerson(fields: Partial<AccountPersonElement> = {}): AccountPersonElement {
  return { id: 'p-1', isPrimary: false, events: [], segments: [], ...fields };
}

/** A random member whose values come from the same pools as generated trees, with missing and null fields. */
export function generateMember(random: Random, target: TargetEntity, now = NOW): Member {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const maybe = <T>(value: () => T): T | null | undefined => {
    const roll = random();
    return roll < 0.15 ? undefined : roll < 0.25 ? null : value();
  };
  const string = () => pick(random() < 0.5 ? FIXTURE_VALUES.strings : [...FIXTURE_VALUES.countries, ...FIXTURE_VALUES.stages, ...FIXTURE_VALUES.roles]);
  const number = () => pick(FIXTURE_VALUES.numbers);
  const date = () => new Date(now.getTime() + pick(FIXTURE_VALUES.dayOffsets) * DAY + pick([0, -1, 1, DAY / 2]));
  const anyValue = (): unknown => pick<() => unknown>([string, number, () => random() < 0.5, date, () => [string(), number()], () => ({ x: 1 })])();
  const attributes = () => {
    const result: Record<string, unknown> = {};
    for (const key of FIXTURE_VALUES.attributeKeys) if (random() < 0.6) result[key] = random() < 0.1 ? null : anyValue();
    if (random() < 0.2) result['odd key'] = { tier: anyValue() };
    return result;
  };
  const times = <T>(most: number, make: () => T) => Array.from({ length: Math.floor(random() * (most + 1)) }, make);
  let ids = 0;
  const id = (prefix: string) => `${prefix}-${++ids}`;
  const events = () =>
    times(4, () => ({ id: id('e'), type: pick(FIXTURE_VALUES.eventTypes), timestamp: date(), url: maybe(() => pick(FIXTURE_VALUES.urls)), attributes: maybe(attributes) }));
  const accountFields = () => ({
    id: id('a'),
    name: maybe(string),
    domain: maybe(string),
    industry: maybe(string),
    annualRevenue: maybe(number),
    employees: maybe(number),
    country: maybe(() => pick(FIXTURE_VALUES.countries)),
    type: maybe(string),
    attributes: maybe(attributes),
  });
  const opportunity = () => ({
    id: id('o'),
    name: maybe(string),
    stage: maybe(() => pick(FIXTURE_VALUES.stages)),
    amount: maybe(number),
    closeDate: maybe(date),
    isClosed: maybe(() => random() < 0.5),
    isWon: maybe(() => random() < 0.5),
    attributes: maybe(attributes),
  });
  const personFields = () => ({
    id: id('p'),
    firstName: maybe(string),
    jobTitle: maybe(string),
    country: maybe(() => pick(FIXTURE_VALUES.countries)),
    leadScore: maybe(number),
    consents: maybe(() => ({ marketingEmail: maybe(() => pick(['y', 'n'])) })),
    attributes: maybe(attributes),
  });
  const segments = () => ['p1', 'p2', 'a1'].filter(() => random() < 0.4);
  if (target === 'PERSON') {
    const accounts = times(2, () => ({ ...accountFields(), isPrimary: random() < 0.5, jobRole: maybe(string) }));
    return {
      ...personFields(),
      events: events(),
      accounts,
      opportunities: times(2, () => ({ ...opportunity(), isPrimary: random() < 0.5, role: maybe(() => pick(FIXTURE_VALUES.roles)) })),
      account: accounts[0] ?? null,
      segments: segments(),
    };
  }
  return {
    ...accountFields(),
    people: times(3, () => ({ ...personFields(), isPrimary: random() < 0.5, jobRole: maybe(string), events: events(), segments: segments() })),
    opportunities: times(2, opportunity),
    segments: segments(),
  };
}
