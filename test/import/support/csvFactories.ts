/**
 * Factories for export files as Marketo and Salesforce write them: one row
 * object per record (overridable per test), and CSV text with the quoting rules
 * of RFC 4180. The import benchmark uses the same factories.
 */
export type Row = Record<string, string | number | boolean | undefined>;

export const MUNCHKIN = '123-ABC-456';
export const ORG = '00D5e000001XyZ';

export function csvValue(value: Row[string]): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(columns: readonly string[], row: Row): string {
  return columns.map((column) => csvValue(row[column])).join(',');
}

export function csvText(columns: readonly string[], rows: readonly Row[]): string {
  return `${[columns.join(','), ...rows.map((row) => csvLine(columns, row))].join('\n')}\n`;
}

export const MARKETO_LEAD_COLUMNS = [
  'id', 'email', 'firstName', 'lastName', 'title', 'company', 'phone', 'country', 'leadScore', 'leadStatus',
  'unsubscribed', 'sfdcLeadId', 'sfdcContactId', 'sfdcAccountId', 'updatedAt',
] as const;

export function marketoLead(n: number, overrides: Row = {}): Row {
  return {
    id: 1000 + n,
    email: `lead${n}@example${n % 97}.com`,
    firstName: `First${n}`,
    lastName: `Last${n}`,
    title: n % 3 === 0 ? 'VP Marketing' : 'Engineer',
    company: `Company ${n % 500}`,
    phone: `+1 555 ${String(n).padStart(7, '0')}`,
    country: n % 2 === 0 ? 'US' : 'DE',
    leadScore: n % 100,
    leadStatus: 'Open',
    unsubscribed: n % 10 === 0,
    updatedAt: '2026-01-15T10:00:00Z',
    ...overrides,
  };
}

export const MARKETO_COMPANY_COLUMNS = ['id', 'company', 'website', 'industry', 'annualRevenue', 'numberOfEmployees', 'billingCountry'] as const;

export function marketoCompany(n: number, overrides: Row = {}): Row {
  return {
    id: 500 + n,
    company: `Company ${n}`,
    website: `company${n}.example`,
    industry: 'Software',
    annualRevenue: 1_000_000 * (n + 1),
    numberOfEmployees: 10 * (n + 1),
    billingCountry: 'US',
    ...overrides,
  };
}

export const MARKETO_ACTIVITY_COLUMNS = ['marketoGUID', 'leadId', 'activityDate', 'activityTypeId', 'campaignId', 'primaryAttributeValue', 'attributes'] as const;

const ACTIVITY_TYPE_IDS = [1, 10, 11, 2, 6, 7];

export function marketoActivity(n: number, leadId: number, overrides: Row = {}): Row {
  const typeId = ACTIVITY_TYPE_IDS[n % ACTIVITY_TYPE_IDS.length]!;
  return {
    marketoGUID: 900_000 + n,
    leadId,
    activityDate: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
    activityTypeId: typeId,
    campaignId: 40 + (n % 5),
    primaryAttributeValue: typeId === 1 ? `https://www.example.com/page/${n % 50}` : `Email ${n % 7}`,
    attributes: JSON.stringify({ client: 'web', n }),
    ...overrides,
  };
}

export const SALESFORCE_ACCOUNT_COLUMNS = [
  'Id', 'Name', 'Website', 'Industry', 'AnnualRevenue', 'NumberOfEmployees', 'BillingCountry', 'Type', 'ParentId', 'LastModifiedDate',
] as const;

/** Salesforce-like 18-character ids: a key prefix, then a number. */
export const sfId = (prefix: string, n: number) => `${prefix}5e${String(n).padStart(13, '0')}`;

export function salesforceAccount(n: number, overrides: Row = {}): Row {
  return {
    Id: sfId('001', n),
    Name: `Account ${n}`,
    Website: `https://www.account${n}.example`,
    Industry: n % 2 === 0 ? 'Software' : 'Manufacturing',
    AnnualRevenue: 5_000_000 + n * 1000,
    NumberOfEmployees: 50 + n,
    BillingCountry: 'US',
    Type: 'Customer',
    LastModifiedDate: '2026-01-10T08:00:00.000+0000',
    ...overrides,
  };
}

export const SALESFORCE_CONTACT_COLUMNS = ['Id', 'AccountId', 'Email', 'FirstName', 'LastName', 'Title', 'Phone', 'MailingCountry', 'HasOptedOutOfEmail', 'LastModifiedDate'] as const;

export function salesforceContact(n: number, accountN: number, overrides: Row = {}): Row {
  return {
    Id: sfId('003', n),
    AccountId: sfId('001', accountN),
    Email: `contact${n}@account${accountN}.example`,
    FirstName: `Contact${n}`,
    LastName: `Person${n}`,
    Title: 'Director',
    Phone: '+1 555 0100',
    MailingCountry: 'US',
    HasOptedOutOfEmail: false,
    LastModifiedDate: '2026-01-12T08:00:00.000+0000',
    ...overrides,
  };
}

export const SALESFORCE_OPPORTUNITY_COLUMNS = ['Id', 'AccountId', 'Name', 'StageName', 'Amount', 'CurrencyIsoCode', 'CloseDate', 'IsClosed', 'IsWon'] as const;

export function salesforceOpportunity(n: number, accountN: number, overrides: Row = {}): Row {
  return {
    Id: sfId('006', n),
    AccountId: sfId('001', accountN),
    Name: `Deal ${n}`,
    StageName: 'Negotiation',
    Amount: 25_000 + n,
    CurrencyIsoCode: 'USD',
    CloseDate: '2026-06-30',
    IsClosed: false,
    IsWon: false,
    ...overrides,
  };
}

export const SALESFORCE_CONTACT_ROLE_COLUMNS = ['Id', 'OpportunityId', 'ContactId', 'Role', 'IsPrimary'] as const;

export function salesforceContactRole(n: number, opportunityN: number, contactN: number, overrides: Row = {}): Row {
  return { Id: sfId('00K', n), OpportunityId: sfId('006', opportunityN), ContactId: sfId('003', contactN), Role: 'Decision Maker', IsPrimary: true, ...overrides };
}
