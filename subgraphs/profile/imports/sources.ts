/**
 * The sources an import can read and the entities (export files) of each, with
 * the shape of their instance ids. Shared by the imports service (to validate
 * `startImport`) and the import job.
 */
export const SOURCES = {
  marketo: {
    sourceType: 'Marketo',
    entities: ['leads', 'companies', 'activities'],
    /** A Munchkin account id, e.g. 123-ABC-456. */
    instancePattern: /^\d{3}-[A-Za-z]{3}-\d{3}$/,
    instanceExample: '123-ABC-456',
  },
  salesforce: {
    sourceType: 'Salesforce',
    entities: ['Account', 'Contact', 'Lead', 'Opportunity', 'OpportunityContactRole'],
    /** An organisation id: "00D" then letters and digits, e.g. 00D5e000001XyZ (15 or 18 characters in most orgs). */
    instancePattern: /^00D[A-Za-z0-9]{9,15}$/,
    instanceExample: '00D5e000001XyZ',
  },
} as const;

export type SourceName = keyof typeof SOURCES;

export function isSourceName(value: string): value is SourceName {
  return Object.hasOwn(SOURCES, value);
}

/** The entity's canonical spelling (`Contact`, `leads`), matched case-insensitively; undefined when unknown. */
export function canonicalEntity(source: SourceName, entity: string): string | undefined {
  const wanted = entity.trim().toLowerCase();
  return SOURCES[source].entities.find((known) => known.toLowerCase() === wanted);
}
