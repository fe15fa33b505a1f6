/**
 * The data model the checker knows: the fields of each scope a condition can be
 * written in, their types, and the relations reachable from it. `attributes.*`
 * is untyped: custom attributes take any operator and the runtime semantics decide.
 */
import type { Path, RelationName, TargetEntity } from './ast.js';

export type FieldType = 'string' | 'number' | 'boolean' | 'date' | 'object' | 'any';

export type ScopeName = 'person' | 'account' | 'event' | 'personAccount' | 'personOpportunity' | 'accountPerson' | 'accountOpportunity';

export interface Scope {
  name: ScopeName;
  /** How error messages name the scope, e.g. "an element of accounts". */
  description: string;
  /** Dotted field names and their types. */
  fields: Readonly<Record<string, FieldType>>;
  relations: Readonly<Partial<Record<RelationName, ScopeName>>>;
  /** The target of the segments `inSegment` may name here, if it may be used at all. */
  inSegment?: TargetEntity;
}

const PERSON: Record<string, FieldType> = {
  id: 'string',
  firstName: 'string',
  lastName: 'string',
  jobTitle: 'string',
  workEmail: 'string',
  phone: 'string',
  country: 'string',
  leadScore: 'number',
  leadStatus: 'string',
  consents: 'object',
  'consents.marketingEmail': 'string',
  attributes: 'any',
};
const ACCOUNT: Record<string, FieldType> = {
  id: 'string',
  name: 'string',
  domain: 'string',
  industry: 'string',
  annualRevenue: 'number',
  employees: 'number',
  country: 'string',
  type: 'string',
  attributes: 'any',
};
const OPPORTUNITY: Record<string, FieldType> = {
  id: 'string',
  name: 'string',
  stage: 'string',
  amount: 'number',
  currency: 'string',
  closeDate: 'date',
  isClosed: 'boolean',
  isWon: 'boolean',
  accountId: 'string',
  attributes: 'any',
};
const EVENT: Record<string, FieldType> = {
  id: 'string',
  type: 'string',
  timestamp: 'date',
  url: 'string',
  campaign: 'string',
  attributes: 'any',
};
/** `account.<field>` on a person: the primary account. */
const PRIMARY_ACCOUNT: Record<string, FieldType> = {
  account: 'object',
  ...Object.fromEntries(Object.entries(ACCOUNT).map(([name, type]) => [`account.${name}`, type])),
};

export const SCOPES: Readonly<Record<ScopeName, Scope>> = {
  person: {
    name: 'person',
    description: 'a person',
    fields: { ...PERSON, ...PRIMARY_ACCOUNT },
    relations: { events: 'event', accounts: 'personAccount', opportunities: 'personOpportunity' },
    inSegment: 'PERSON',
  },
  account: {
    name: 'account',
    description: 'an account',
    fields: ACCOUNT,
    relations: { people: 'accountPerson', opportunities: 'accountOpportunity' },
    inSegment: 'ACCOUNT',
  },
  event: { name: 'event', description: 'an element of events', fields: EVENT, relations: {} },
  personAccount: {
    name: 'personAccount',
    description: 'an element of accounts',
    fields: { ...ACCOUNT, isPrimary: 'boolean', jobRole: 'string' },
    relations: {},
  },
  personOpportunity: {
    name: 'personOpportunity',
    description: 'an element of opportunities',
    fields: { ...OPPORTUNITY, role: 'string', isPrimary: 'boolean' },
    relations: {},
  },
  accountPerson: {
    name: 'accountPerson',
    description: 'an element of people',
    fields: { ...PERSON, isPrimary: 'boolean', jobRole: 'string' },
    relations: { events: 'event' },
    inSegment: 'PERSON',
  },
  accountOpportunity: { name: 'accountOpportunity', description: 'an element of opportunities', fields: OPPORTUNITY, relations: {} },
};

export const TOP_SCOPE: Readonly<Record<TargetEntity, ScopeName>> = { PERSON: 'person', ACCOUNT: 'account' };

/** Where each relation may be used, for the error when it is used elsewhere. */
export const RELATION_PLACES: Readonly<Record<RelationName, string>> = {
  events: 'on a person: at the top level of a person segment, or inside people conditions of an account segment',
  accounts: 'at the top level of a person segment',
  opportunities: 'at the top level of a person segment or of an account segment',
  people: 'at the top level of an account segment',
};

export const PRIMARY_ACCOUNT_PLACE = 'at the top level of a person segment (it reads the person\'s primary account)';

/** The type at `path` in `scope`, or undefined when the scope has no such field. */
export function fieldType(scope: Scope, path: Path): FieldType | undefined {
  if (path[0] === 'attributes' || (path[0] === 'account' && path[1] === 'attributes' && 'account' in scope.fields)) return 'any';
  return scope.fields[path.join('.')];
}
