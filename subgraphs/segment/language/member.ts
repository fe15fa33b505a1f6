/**
 * The member documents both back ends evaluate: a person or an account with its
 * related records joined in. The batch pipeline builds these shapes inside MongoDB
 * (only the relations a segment uses); the member loader builds them in memory for
 * the compiled predicate, preview samples and explain. Missing fields are absent
 * or null; dates are `Date`s.
 */

export type Attributes = Record<string, unknown>;

export interface EventFields {
  id: string;
  type: string;
  timestamp: Date;
  url?: string | null;
  campaign?: string | null;
  attributes?: Attributes | null;
}

export interface AccountFields {
  id: string;
  name?: string | null;
  domain?: string | null;
  industry?: string | null;
  annualRevenue?: number | null;
  employees?: number | null;
  country?: string | null;
  type?: string | null;
  attributes?: Attributes | null;
}

export interface OpportunityFields {
  id: string;
  accountId?: string | null;
  name?: string | null;
  stage?: string | null;
  amount?: number | null;
  currency?: string | null;
  closeDate?: Date | null;
  isClosed?: boolean | null;
  isWon?: boolean | null;
  attributes?: Attributes | null;
}

export interface PersonFields {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  jobTitle?: string | null;
  workEmail?: string | null;
  phone?: string | null;
  country?: string | null;
  leadScore?: number | null;
  leadStatus?: string | null;
  consents?: { marketingEmail?: string | null } | null;
  attributes?: Attributes | null;
}

/** An element of a person's `accounts`: the relation's fields over the account's. */
export interface PersonAccountElement extends AccountFields {
  isPrimary: boolean;
  jobRole?: string | null;
}

/** An element of a person's `opportunities`: the contact role's fields over the opportunity's. */
export interface PersonOpportunityElement extends OpportunityFields {
  isPrimary: boolean;
  role?: string | null;
}

/** An element of an account's `people`: the person's fields and events, with the relation's fields. */
export interface AccountPersonElement extends PersonFields {
  isPrimary: boolean;
  jobRole?: string | null;
  events: EventFields[];
  /** Ids of person segments this person is in now (for `inSegment` inside `people`). */
  segments: string[];
}

export interface PersonMember extends PersonFields {
  events: EventFields[];
  accounts: PersonAccountElement[];
  opportunities: PersonOpportunityElement[];
  /** The person's primary account, or null. */
  account: AccountFields | null;
  /** Ids of segments this person is in now (realized or existing). */
  segments: string[];
}

export interface AccountMember extends AccountFields {
  people: AccountPersonElement[];
  opportunities: OpportunityFields[];
  /** Ids of account segments this account is in now. */
  segments: string[];
}

export type Member = PersonMember | AccountMember;
