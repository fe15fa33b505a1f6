/**
 * The rows of the sources benchmark at a scale: what the file import reads and
 * what the mocks serve, made by the same export-file fixtures in whichever
 * process needs them (the benchmark writes the files; the mocks' child process
 * serves the rows).
 */
import {
  MARKETO_ACTIVITY_COLUMNS,
  MARKETO_LEAD_COLUMNS,
  MUNCHKIN,
  ORG,
  SALESFORCE_ACCOUNT_COLUMNS,
  SALESFORCE_CONTACT_COLUMNS,
  marketoActivity,
  marketoLead,
  salesforceAccount,
  salesforceContact,
  type Row,
} from '../../lib/fixtures/exportFiles.js';
import type { ImportSpec } from '../ingest/fileImport.js';

export interface SourceSpecs {
  marketo: { leads: ImportSpec; activities: ImportSpec };
  salesforce: { Account: ImportSpec; Contact: ImportSpec };
}

export function sourceSpecs(scale: number): SourceSpecs {
  const count = (n: number) => Math.max(10, Math.round(n * scale));
  const leads = count(100_000);
  const accounts = count(20_000);
  return {
    marketo: {
      leads: { name: 'Marketo leads', source: 'marketo', instance: MUNCHKIN, entity: 'leads', columns: MARKETO_LEAD_COLUMNS, rows: leads, row: (n) => marketoLead(n) },
      activities: { name: 'Marketo activities', source: 'marketo', instance: MUNCHKIN, entity: 'activities', columns: MARKETO_ACTIVITY_COLUMNS, rows: count(200_000), row: (n) => marketoActivity(n, 1000 + (n % leads)) },
    },
    salesforce: {
      Account: { name: 'Salesforce Account', source: 'salesforce', instance: ORG, entity: 'Account', columns: SALESFORCE_ACCOUNT_COLUMNS, rows: accounts, row: (n) => salesforceAccount(n) },
      Contact: { name: 'Salesforce Contact', source: 'salesforce', instance: ORG, entity: 'Contact', columns: SALESFORCE_CONTACT_COLUMNS, rows: count(100_000), row: (n) => salesforceContact(n, n % accounts) },
    },
  };
}

export function rowsOf(spec: ImportSpec): Row[] {
  return Array.from({ length: spec.rows }, (_, n) => spec.row(n));
}
