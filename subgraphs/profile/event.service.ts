/**
 * Experience events: `ingestEvents` (validation per event, owners found with one
 * identity query, unknown identities given a profile through the identity graph,
 * one bulk write) and a profile's events as a connection. Writes need the editor role.
 */
import { createHash } from 'node:crypto';
import { requireRole } from '../../lib/auth/roles.js';
import { badInput } from '../../lib/errors.js';
import { identityKey, type Identity } from '../../lib/identity/namespaces.js';
import { isSourceKey } from '../../lib/identity/sourceKey.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, planRecord, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import { optionalText } from '../../lib/subgraph/validation.js';
import { decodeCursor, encodeCursor, toConnection, type Connection } from '../../lib/subgraph/connection.js';
import { parsePageArgs } from '../../lib/subgraph/pagination.js';
import type { EventRecord, EventsRepository } from './events.repository.js';
import { normaliseAttributes, normalisePersonIdentity, type IdentityInput } from './personInput.js';
import type { PersonWriter, ProfileRepositories } from './personWriter.js';
import type { ProfileRecord } from './profileView.js';

export interface EventInput {
  sourceKey?: string | null;
  identity: IdentityInput;
  type: string;
  timestamp: Date;
  url?: string | null;
  campaign?: string | null;
  attributes?: unknown;
}

export interface EventIngestResult {
  index: number;
  status: RecordStatus;
  profileId: string | null;
  error: RecordError | null;
}

export interface EventsArgs {
  type?: string | null;
  since?: Date | null;
  first?: number | null;
  after?: string | null;
}

const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

const isEventCursor = (value: unknown): value is { t: number; id: string } =>
  typeof value === 'object' && value !== null && Number.isFinite((value as { t?: unknown }).t) && typeof (value as { id?: unknown }).id === 'string';

/** Same source key, same id; without one, the same content is the same event. */
function eventId(event: Omit<EventRecord, 'id' | 'ingestedAt'>): string {
  const basis = event.sourceKey
    ? ['source', event.sourceKey]
    : ['content', event.identityKey, event.type, event.timestamp.toISOString(), event.url ?? '', event.campaign ?? '', event.attributes ?? null];
  return `evt_${createHash('sha256').update(JSON.stringify(basis)).digest('hex').slice(0, 32)}`;
}

export function normaliseEvent(input: EventInput, now: Date): EventRecord {
  let sourceKey: string | undefined;
  if (input.sourceKey != null) {
    sourceKey = input.sourceKey.trim();
    if (!isSourceKey(sourceKey)) {
      throw badInput(`sourceKey ${JSON.stringify(input.sourceKey.slice(0, 120))} is invalid: use "<sourceId>@<instanceId>.<sourceType>"`, { field: 'sourceKey' });
    }
  }
  const identity: Identity = normalisePersonIdentity(input.identity, 'identity');
  const type = input.type.trim();
  if (!EVENT_TYPE.test(type)) {
    throw badInput(`type ${JSON.stringify(input.type.slice(0, 120))} is invalid: 1 to 100 characters, a letter first, then letters, digits, '.', '_' or '-' (e.g. web.pageView)`, {
      field: 'type',
    });
  }
  const event: Omit<EventRecord, 'id' | 'ingestedAt'> = { identity, identityKey: identityKey(identity), type, timestamp: input.timestamp };
  if (sourceKey) event.sourceKey = sourceKey;
  const url = optionalText(input.url ?? undefined, 'url', 2000);
  if (url) event.url = url;
  const campaign = optionalText(input.campaign ?? undefined, 'campaign');
  if (campaign) event.campaign = campaign;
  if (input.attributes != null) event.attributes = normaliseAttributes(input.attributes);
  return { ...event, id: eventId(event), ingestedAt: now };
}

export class EventService {
  constructor(
    private readonly repos: ProfileRepositories & { events: EventsRepository },
    private readonly writer: PersonWriter,
    private readonly deps: ServiceDeps,
  ) {}

  async ingestEvents(inputs: readonly EventInput[]): Promise<EventIngestResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, 'events');
    const now = this.deps.now();
    const results: EventIngestResult[] = [];
    const valid: Array<{ index: number; event: EventRecord }> = [];
    inputs.forEach((input, index) => {
      const checked = planRecord(() => normaliseEvent(input, now));
      if ('error' in checked) results[index] = { index, status: 'REJECTED', profileId: null, error: checked.error };
      else valid.push({ index, event: checked.ok });
    });
    if (valid.length === 0) return results;

    await Promise.all([this.writer.ensureIndexes(), this.repos.events.ensureIndexes()]);
    const identities = new Map(valid.map(({ event }) => [event.identityKey, event.identity]));
    const owners = await this.repos.people.findOwners([...identities.keys()]);
    const unknown = [...identities].filter(([key]) => !owners.has(key));
    const refused = new Map<string, RecordError>();
    if (unknown.length > 0) {
      // A profile for each identity nobody holds yet, anchored on that identity (a person record with that key joins it later).
      const outcome = await this.writer.apply(unknown.map(([key, identity]) => ({ fragmentId: key, identities: [identity], values: [], at: now })));
      unknown.forEach(([key], position) => {
        const result = outcome.results[position]!;
        if (result.status === 'REJECTED') refused.set(key, result.error);
        else owners.set(key, result.profileId);
      });
    }

    const writable = valid.filter(({ index, event }) => {
      const error = refused.get(event.identityKey);
      if (error) results[index] = { index, status: 'REJECTED', profileId: null, error };
      return !error;
    });
    const created = await this.repos.events.write(writable.map(({ event }) => event));
    writable.forEach(({ index, event }, position) => {
      results[index] = { index, status: created.has(position) ? 'CREATED' : 'UPDATED', profileId: owners.get(event.identityKey) ?? null, error: null };
    });
    return results;
  }

  /** The profile's events through its identities, newest first. */
  async eventsOf(profile: ProfileRecord, args: EventsArgs): Promise<Connection<EventRecord>> {
    const { limit } = parsePageArgs({ first: args.first });
    const cursor = args.after ? decodeCursor(args.after, isEventCursor) : undefined;
    const page = await this.repos.events.page({
      identityKeys: profile.identityKeys,
      type: args.type ?? undefined,
      since: args.since ?? undefined,
      before: cursor ? { timestamp: new Date(cursor.t), id: cursor.id } : undefined,
      limit: limit + 1,
    });
    return toConnection(page, limit, (event) => encodeCursor({ t: event.timestamp.getTime(), id: event.id }));
  }
}
