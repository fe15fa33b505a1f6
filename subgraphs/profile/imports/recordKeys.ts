/**
 * The keys a record writes and reads in the subgraphs, so the import can send a
 * batch while earlier ones are still in flight only when it cannot touch what
 * they touch: two batches conflict when one writes a key the other reads or
 * writes. Keys are compared as the subgraphs compare them (emails lowercased,
 * namespaces in any case), erring towards a conflict, which only costs a wait.
 */
import { IdentityNamespace } from '../../../lib/identity/namespaces.js';
import type { IdentityInput, IngestRecord } from './mappings/records.js';

export interface RecordKeys {
  writes: string[];
  reads: string[];
}

const identity = ({ namespace, value }: IdentityInput) => {
  const ns = namespace.trim().toLowerCase();
  return `identity:${ns}:${ns === IdentityNamespace.Email.toLowerCase() ? value.trim().toLowerCase() : value.trim()}`;
};
const person = (sourceKey: string) => identity({ namespace: IdentityNamespace.Person, value: sourceKey });
const account = (sourceKey: string) => `account:${sourceKey.trim()}`;
const opportunity = (sourceKey: string) => `opportunity:${sourceKey.trim()}`;

export function recordKeys(record: IngestRecord): RecordKeys {
  switch (record.kind) {
    case 'people': {
      // Joining a profile rewrites it: every identity of the record is written.
      const { sourceKey, identities, workEmail } = record.input;
      const writes = [person(sourceKey), ...(identities ?? []).map(identity)];
      if (workEmail) writes.push(identity({ namespace: IdentityNamespace.Email, value: workEmail }));
      return { writes, reads: [] };
    }
    case 'accounts': {
      const { sourceKey, parentSourceKey } = record.input;
      return { writes: [account(sourceKey)], reads: parentSourceKey ? [account(parentSourceKey)] : [] };
    }
    case 'opportunities': {
      const { sourceKey, accountSourceKey } = record.input;
      return { writes: [opportunity(sourceKey)], reads: accountSourceKey ? [account(accountSourceKey)] : [] };
    }
    case 'accountLinks':
      // One primary account per person.
      return { writes: [`accountLink:${person(record.input.personSourceKey)}`], reads: [account(record.input.accountSourceKey)] };
    case 'opportunityContacts':
      // One primary contact per opportunity.
      return {
        writes: [`opportunityContact:${opportunity(record.input.opportunitySourceKey)}`, `opportunityContact:${record.input.sourceKey.trim()}`],
        reads: [opportunity(record.input.opportunitySourceKey)],
      };
    case 'events':
      // A profile made for an unknown identity goes through the profile writer, which takes one batch at a time.
      return { writes: [`event:${record.input.sourceKey.trim()}`], reads: [identity(record.input.identity)] };
  }
}

/** The keys of a whole batch of records. */
export class BatchKeys {
  readonly writes = new Set<string>();
  readonly reads = new Set<string>();

  add(record: IngestRecord): void {
    const keys = recordKeys(record);
    for (const key of keys.writes) this.writes.add(key);
    for (const key of keys.reads) this.reads.add(key);
  }

  /** True when one batch writes a key the other reads or writes. */
  conflictsWith(other: BatchKeys): boolean {
    const [small, large] = this.writes.size + this.reads.size <= other.writes.size + other.reads.size ? [this, other] : [other, this];
    for (const key of small.writes) if (large.writes.has(key) || large.reads.has(key)) return true;
    for (const key of small.reads) if (large.writes.has(key)) return true;
    return false;
  }
}
