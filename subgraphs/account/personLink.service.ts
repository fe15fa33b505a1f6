/**
 * Person links: `linkPeopleToAccounts` and `addOpportunityContacts`. The person is named
 * by a person key and never looked up (the profile subgraph owns people, and a source's
 * link may come before its person); the account or opportunity must exist (NOT_FOUND).
 * A batch is planned from two reads and written with one bulkWrite. Writes need the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, planRecord, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import { optionalText } from '../../lib/subgraph/validation.js';
import { collectReferences, KnownRecords, type Reference } from './knownRecords.js';
import type { PersonLink, PersonLinkKind, PersonLinksRepository, PersonLinkWrite } from './personLinks.repository.js';
import { oneReference, optionalSourceKey, personKey } from './references.js';

/** A link as the API names it, reduced to what both kinds share. */
export interface PersonLinkInput {
  sourceKey?: string | null;
  personId?: string | null;
  personSourceKey?: string | null;
  targetId?: string | null;
  targetSourceKey?: string | null;
  isPrimary?: boolean | null;
  role?: string | null;
}

export interface PersonLinkResult {
  index: number;
  status: RecordStatus;
  link: PersonLink | null;
  error: RecordError | null;
}

/** The accounts or opportunities links may point at, looked up by ids and source keys in one query. */
export interface LinkTargets {
  /** 'Account' or 'Opportunity', for NOT_FOUND messages. */
  what: string;
  /** Input field names, e.g. accountId / accountSourceKey, role / jobRole. */
  fields: { id: string; sourceKey: string; role: string };
  findByIdsOrSourceKeys(ids: readonly string[], sourceKeys: readonly string[]): Promise<{ id: string; sourceKeys: string[] }[]>;
}

interface NormalizedLink {
  personKey: string;
  target: Reference;
  sourceKey?: string;
  isPrimary?: boolean;
  role?: string;
}

const pairOf = (targetId: string, personKey: string) => `${targetId}\n${personKey}`;

export class PersonLinkService {
  constructor(
    private readonly links: PersonLinksRepository,
    private readonly kind: PersonLinkKind,
    private readonly targets: LinkTargets,
    private readonly deps: ServiceDeps,
  ) {}

  private normalize(input: PersonLinkInput): NormalizedLink {
    const { fields } = this.targets;
    return {
      personKey: personKey(input),
      target: oneReference({ value: input.targetId, field: fields.id }, { value: input.targetSourceKey, field: fields.sourceKey }, true)!,
      sourceKey: optionalSourceKey(input.sourceKey, 'sourceKey'),
      isPrimary: input.isPrimary ?? undefined,
      role: optionalText(input.role ?? undefined, fields.role, 200) ?? undefined,
    };
  }

  async upsertLinks(inputs: readonly PersonLinkInput[], what: string): Promise<PersonLinkResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, what);
    await this.links.ensureIndexes();

    const normalized = inputs.map((input) => planRecord(() => this.normalize(input)));
    const valid = normalized.flatMap((record) => ('ok' in record ? [record.ok] : []));
    const refs = collectReferences(valid.map((link) => link.target));
    const [targets, existing] = await Promise.all([
      this.targets.findByIdsOrSourceKeys(refs.ids, refs.sourceKeys),
      this.links.findByPersonKeys([...new Set(valid.map((link) => link.personKey))]),
    ]);
    const known = new KnownRecords(this.targets.what, targets);
    const state = new Map(existing.map((link) => [pairOf(link.targetId, link.personKey), link]));

    const now = this.deps.now();
    const writes = new Map<string, PersonLinkWrite>();
    // The link that ends the batch primary, per scope (a person, or an opportunity).
    const primaries = new Map<string, { targetId: string; personKey: string; now: Date }>();
    const results: PersonLinkResult[] = normalized.map((record, index) => {
      const planned = 'ok' in record ? planRecord(() => this.planOne(record.ok, known, state, writes, primaries, now)) : record;
      return 'ok' in planned
        ? { index, status: planned.ok.status, link: planned.ok.link, error: null }
        : { index, status: 'REJECTED', link: null, error: planned.error };
    });
    await this.links.saveAll([...writes.values()], [...primaries.values()]);
    return results;
  }

  private planOne(
    record: NormalizedLink,
    known: KnownRecords<{ id: string; sourceKeys: string[] }>,
    state: Map<string, PersonLink>,
    writes: Map<string, PersonLinkWrite>,
    primaries: Map<string, { targetId: string; personKey: string; now: Date }>,
    now: Date,
  ): { status: 'CREATED' | 'UPDATED'; link: PersonLink } {
    const target = known.resolve(record.target, 'id' in record.target ? this.targets.fields.id : this.targets.fields.sourceKey);
    const pair = pairOf(target.id, record.personKey);
    const existing = state.get(pair);
    const link: PersonLink = {
      ...(existing ?? { id: this.deps.ids('rel'), targetId: target.id, personKey: record.personKey, isPrimary: false, createdAt: now }),
      updatedAt: now,
    };
    if (record.isPrimary !== undefined) link.isPrimary = record.isPrimary;
    if (record.role !== undefined) link.role = record.role;
    if (record.sourceKey !== undefined) link.sourceKey = record.sourceKey;
    state.set(pair, link);

    const write = writes.get(pair) ?? { id: link.id, targetId: target.id, personKey: record.personKey, now };
    if (record.isPrimary !== undefined) write.isPrimary = record.isPrimary;
    if (record.role !== undefined) write.role = record.role;
    if (record.sourceKey !== undefined) write.sourceKey = record.sourceKey;
    writes.set(pair, write);

    const scope = this.kind.primaryPer === 'person' ? record.personKey : target.id;
    const current = primaries.get(scope);
    if (link.isPrimary) primaries.set(scope, { targetId: target.id, personKey: record.personKey, now });
    else if (current?.targetId === target.id && current.personKey === record.personKey) primaries.delete(scope);
    return { status: existing ? 'UPDATED' : 'CREATED', link };
  }
}

/**
 * The person's primary account among links gathered from all of the person's keys: the
 * link marked primary (the most recently updated, should several keys have one), else the
 * only linked account; null otherwise.
 */
export function primaryTarget<T extends object>(links: readonly { targetId: string; isPrimary: boolean; updatedAt: Date; target: T | null }[]): T | null {
  const live = links.filter((link) => link.target !== null);
  const primaries = live.filter((link) => link.isPrimary);
  if (primaries.length > 0) return primaries.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a)).target;
  const distinct = distinctByTarget(live);
  return distinct.length === 1 ? distinct[0]!.target : null;
}

/**
 * One link per account or opportunity (a merged person may be linked to the same account
 * under two keys): primary first, then the most recently updated; primary links lead the list.
 */
export function distinctByTarget<L extends { targetId: string; isPrimary: boolean; updatedAt: Date; target: object | null }>(links: readonly L[]): L[] {
  const best = new Map<string, L>();
  for (const link of links) {
    if (link.target === null) continue;
    const current = best.get(link.targetId);
    const better = !current || (link.isPrimary && !current.isPrimary) || (link.isPrimary === current.isPrimary && link.updatedAt > current.updatedAt);
    if (better) best.set(link.targetId, link);
  }
  return [...best.values()].sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary));
}
