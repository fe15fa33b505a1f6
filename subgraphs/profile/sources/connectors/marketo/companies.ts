/**
 * Marketo's Company API, read the only way it can be: companies.json answers a
 * query by one searchable field (here `externalCompanyId`, the field a lead names
 * its company by) for at most 300 values, so companies are read for the leads
 * that name them rather than listed. describe.json says which of the fields the
 * companies mapping reads this instance has; only those are asked for.
 */
import { isRecord } from '../../../../../lib/connectors/http.js';
import type { MarketoClient } from '../../../../../lib/marketo/marketoClient.js';
import { cell, type SourceRow } from '../sourceConnector.js';

/** The company fields read, named as Marketo names them (and as the companies mapping reads them). */
export const COMPANY_FIELDS = ['externalCompanyId', 'id', 'company', 'website', 'industry', 'annualRevenue', 'numberOfEmployees', 'billingCountry', 'updatedAt'] as const;
/** Values per companies.json query and records per page (Marketo's limits). */
const COMPANIES_PER_QUERY = 300;

export class MarketoCompanies {
  private fields: Promise<string[]> | undefined;

  constructor(private readonly client: MarketoClient) {}

  /** The companies with these externalCompanyIds, as rows of the companies export; unknown ids are simply not answered. */
  async read(externalCompanyIds: readonly string[]): Promise<SourceRow[]> {
    const fields = await this.knownFields();
    const rows: SourceRow[] = [];
    for (let i = 0; i < externalCompanyIds.length; i += COMPANIES_PER_QUERY) {
      const filterValues = externalCompanyIds.slice(i, i + COMPANIES_PER_QUERY).join(',');
      let nextPageToken: string | undefined;
      do {
        // POST with _method=GET: 300 ids do not fit in a URL.
        const answer = await this.client.call({
          method: 'POST',
          path: '/v1/companies.json',
          query: { _method: 'GET' },
          form: { filterType: 'externalCompanyId', filterValues, fields: fields.join(','), batchSize: String(COMPANIES_PER_QUERY), ...(nextPageToken ? { nextPageToken } : {}) },
        });
        for (const company of answer.result.filter(isRecord)) rows.push(Object.fromEntries(fields.map((field) => [field, cell(company[field])])));
        // A short page is the last, whatever token comes with it.
        nextPageToken = answer.result.length === COMPANIES_PER_QUERY ? answer.nextPageToken : undefined;
      } while (nextPageToken);
    }
    return rows;
  }

  /** COMPANY_FIELDS this instance's Company object has (asked once per connector). */
  private knownFields(): Promise<string[]> {
    this.fields ??= this.client.call({ method: 'GET', path: '/v1/companies/describe.json' }).then((answer) => {
      const described = isRecord(answer.result[0]) && Array.isArray(answer.result[0].fields) ? answer.result[0].fields.filter(isRecord) : [];
      const names = new Set(described.map((field) => String(field.name)));
      return COMPANY_FIELDS.filter((field) => names.has(field) || field === 'externalCompanyId');
    });
    this.fields.catch(() => {
      this.fields = undefined;
    });
    return this.fields;
  }
}
