/**
 * The ingestion inputs an import sends to the subgraphs' bulk mutations, as
 * their schemas define them (PersonInput, AccountInput, ...).
 * Dates travel as ISO-8601 strings, the GraphQL `DateTime` form.
 */
export interface IdentityInput {
  namespace: string;
  value: string;
}

export type Attributes = Record<string, unknown>;

export interface PersonInput {
  sourceKey: string;
  identities?: IdentityInput[];
  firstName?: string;
  lastName?: string;
  jobTitle?: string;
  workEmail?: string;
  phone?: string;
  country?: string;
  leadScore?: number;
  leadStatus?: string;
  consents?: { marketingEmail: 'y' | 'n' };
  attributes?: Attributes;
  sourceUpdatedAt?: string;
}

export interface AccountInput {
  sourceKey: string;
  name?: string;
  domain?: string;
  industry?: string;
  annualRevenue?: number;
  employees?: number;
  country?: string;
  type?: string;
  parentSourceKey?: string;
  attributes?: Attributes;
  sourceUpdatedAt?: string;
}

export interface OpportunityInput {
  sourceKey: string;
  accountSourceKey?: string;
  name?: string;
  stage?: string;
  amount?: number;
  currency?: string;
  closeDate?: string;
  isClosed?: boolean;
  isWon?: boolean;
  attributes?: Attributes;
  sourceUpdatedAt?: string;
}

export interface AccountPersonLinkInput {
  personSourceKey: string;
  accountSourceKey: string;
  isPrimary?: boolean;
  jobRole?: string;
}

export interface OpportunityContactInput {
  sourceKey: string;
  opportunitySourceKey: string;
  personSourceKey: string;
  role?: string;
  isPrimary?: boolean;
}

export interface EventInput {
  sourceKey: string;
  identity: IdentityInput;
  type: string;
  timestamp: string;
  url?: string;
  campaign?: string;
  attributes?: Attributes;
}

/** What a record is, and so which mutation takes it. */
export interface IngestInputs {
  people: PersonInput;
  accounts: AccountInput;
  opportunities: OpportunityInput;
  accountLinks: AccountPersonLinkInput;
  opportunityContacts: OpportunityContactInput;
  events: EventInput;
}
export type IngestKind = keyof IngestInputs;
export type IngestRecord = { [K in IngestKind]: { kind: K; input: IngestInputs[K] } }[IngestKind];

/**
 * What one CSV row becomes: its main record (the row is imported when this is
 * written) and records that hang off it, such as a contact's account link.
 */
export interface RowRecords {
  main: IngestRecord;
  related: IngestRecord[];
}

/** The order a batch's records are sent in: what others refer to goes first. */
export const INGEST_ORDER: readonly IngestKind[] = ['accounts', 'people', 'opportunities', 'accountLinks', 'opportunityContacts', 'events'];
