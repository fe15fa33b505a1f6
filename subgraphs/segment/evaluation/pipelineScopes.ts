/**
 * The documents each level of a segment pipeline works on, and which of their top-level fields a
 * path may read: exactly the member document's fields (`language/member.ts`), so the pipeline
 * and the compiled predicate over `loadMembers` see the same values. Any other stored field
 * (bookkeeping such as `version` or `sourceKeys`, helper fields of the pipeline) reads MISSING.
 */
import { ACCOUNT_DOCUMENT_FIELDS, OPPORTUNITY_DOCUMENT_FIELDS } from '../../account/account.view.js';
import { EVENT_DOCUMENT_FIELDS, PERSON_DOCUMENT_FIELDS } from '../../profile/profile.view.js';
import type { RelationName, TargetEntity } from '../language/index.js';

export type ScopeName = 'person' | 'account' | 'event' | 'personAccount' | 'personOpportunity' | 'accountPerson' | 'accountOpportunity';

export interface PipelineScope {
  name: ScopeName;
  /** Member field names readable at the top of a path (`id` is stored as `_id`). */
  fields: ReadonlySet<string>;
  /** The scope of each relation's elements. */
  relations: Readonly<Partial<Record<RelationName, ScopeName>>>;
  /** Whether `account.<field>` reads the primary account (a person member). */
  primaryAccount: boolean;
  /** The member type `inSegment` looks up here, if it may be used. */
  inSegment?: TargetEntity;
}

const withId = (...lists: ReadonlyArray<readonly string[]>): ReadonlySet<string> => new Set(['id', ...lists.flat()]);

export const ACCOUNT_FIELDS = withId(ACCOUNT_DOCUMENT_FIELDS);
const PERSON_FIELDS = withId(PERSON_DOCUMENT_FIELDS);
const OPPORTUNITY_FIELDS = withId(OPPORTUNITY_DOCUMENT_FIELDS);

export const SCOPES: Readonly<Record<ScopeName, PipelineScope>> = {
  person: {
    name: 'person',
    fields: PERSON_FIELDS,
    relations: { events: 'event', accounts: 'personAccount', opportunities: 'personOpportunity' },
    primaryAccount: true,
    inSegment: 'PERSON',
  },
  account: { name: 'account', fields: ACCOUNT_FIELDS, relations: { people: 'accountPerson', opportunities: 'accountOpportunity' }, primaryAccount: false, inSegment: 'ACCOUNT' },
  event: { name: 'event', fields: withId(EVENT_DOCUMENT_FIELDS), relations: {}, primaryAccount: false },
  personAccount: { name: 'personAccount', fields: withId(ACCOUNT_DOCUMENT_FIELDS, ['isPrimary', 'jobRole']), relations: {}, primaryAccount: false },
  personOpportunity: { name: 'personOpportunity', fields: withId(OPPORTUNITY_DOCUMENT_FIELDS, ['isPrimary', 'role']), relations: {}, primaryAccount: false },
  accountPerson: {
    name: 'accountPerson',
    fields: withId(PERSON_DOCUMENT_FIELDS, ['isPrimary', 'jobRole']),
    relations: { events: 'event' },
    primaryAccount: false,
    inSegment: 'PERSON',
  },
  accountOpportunity: { name: 'accountOpportunity', fields: OPPORTUNITY_FIELDS, relations: {}, primaryAccount: false },
};

export const TOP_SCOPE: Readonly<Record<TargetEntity, ScopeName>> = { PERSON: 'person', ACCOUNT: 'account' };

/** The stored name of a member field: ids are `_id`. */
export function storedField(field: string): string {
  return field === 'id' ? '_id' : field;
}

/** Helper fields the pipeline adds to a level's documents; no member field starts with `__`. */
export const PRIMARY_ACCOUNT_FIELD = '__primaryAccount';
