/** An activation's Marketo options and mapping, checked once, with messages that say what to fix. */
import type { JsonObject } from '../../../../lib/subgraph/scalars.js';
import type { FieldMapping, MemberType } from '../connector.js';
import { checkMappingShape } from '../mapping.js';

/** Marketo refuses createOrUpdate inputs with more fields than this. */
export const MARKETO_MAX_MAPPED_FIELDS = 50;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface MarketoOptions {
  listId: number;
  createMissingLeads: boolean;
  /** How people are matched to leads: by email, or by an ECID held in a custom lead field. */
  matchBy: 'email' | 'ecid';
  /** The lead field that holds the ECID when `matchBy` is `ecid`. */
  ecidField: string;
}

export function checkMarketoActivation(activation: { memberType: MemberType; mapping: readonly FieldMapping[]; options: JsonObject }): string[] {
  const problems: string[] = [];
  if (activation.memberType !== 'PERSON') problems.push('Marketo static lists hold people: activate a person audience');
  const parsed = parseMarketoOptions(activation.options);
  if (typeof parsed === 'string') problems.push(parsed);
  problems.push(...checkMappingShape(activation.mapping));
  if (activation.mapping.length > MARKETO_MAX_MAPPED_FIELDS) {
    problems.push(`Marketo accepts at most ${MARKETO_MAX_MAPPED_FIELDS} mapped fields (got ${activation.mapping.length})`);
  }
  for (const field of activation.mapping) {
    if (field.destination && !FIELD_NAME.test(field.destination)) {
      problems.push(`${JSON.stringify(field.destination)} is not a Marketo field API name (letters, digits and _)`);
    }
  }
  return problems;
}

/** The options, or a message naming what is wrong. */
export function parseMarketoOptions(options: JsonObject): MarketoOptions | string {
  const listId = typeof options.listId === 'string' ? Number(options.listId) : options.listId;
  if (typeof listId !== 'number' || !Number.isInteger(listId) || listId <= 0) {
    return 'options.listId must be the id of a Marketo static list (a positive integer)';
  }
  if (options.createMissingLeads !== undefined && typeof options.createMissingLeads !== 'boolean') {
    return 'options.createMissingLeads must be true or false';
  }
  const matchBy = options.matchBy ?? 'email';
  if (matchBy !== 'email' && matchBy !== 'ecid') return 'options.matchBy must be "email" or "ecid"';
  const ecidField = options.ecidField ?? 'ecid';
  if (typeof ecidField !== 'string' || !FIELD_NAME.test(ecidField)) return 'options.ecidField must be a Marketo field API name';
  return { listId, createMissingLeads: options.createMissingLeads === true, matchBy, ecidField };
}
