/** The activation's mapping applied to a member: source field paths renamed to the destination's field names. */
import type { AttributeValue, DeliveryMember, FieldMapping } from './connector.js';

export function mappedAttributes(member: DeliveryMember, mapping: readonly FieldMapping[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (mapping.length === 0) {
    for (const [name, value] of Object.entries(member.attributes)) out[name] = value;
    return out;
  }
  for (const { source, destination } of mapping) {
    const value = member.attributes[source];
    out[destination] = value === undefined ? null : value;
  }
  return out;
}

/** The destination field names, in mapping order (or the first member's attribute names without a mapping). */
export function mappedFieldNames(mapping: readonly FieldMapping[], members: readonly DeliveryMember[]): string[] {
  if (mapping.length > 0) return mapping.map((field) => field.destination);
  const names = new Set<string>();
  for (const member of members) for (const name of Object.keys(member.attributes)) names.add(name);
  return [...names].sort();
}

/** Shape problems every destination shares: names present and unique. */
export function checkMappingShape(mapping: readonly FieldMapping[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [index, field] of mapping.entries()) {
    if (!field.source?.trim() || !field.destination?.trim()) problems.push(`mapping[${index}] needs a source and a destination`);
    else if (seen.has(field.destination)) problems.push(`mapping[${index}]: destination field ${JSON.stringify(field.destination)} is mapped twice`);
    seen.add(field.destination);
  }
  return problems;
}

/** A scalar value at runtime: attributes come from stored documents, which types do not guard. */
export function isScalar(value: unknown): value is AttributeValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}
