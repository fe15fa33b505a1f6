/** Events to append, a process that dies or fails mid-append, and a count of the commands a client sends. */
import type { Collection, Db, MongoClient } from 'mongodb';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import type { NewMembershipEvent } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';

export const AT = new Date('2099-01-01T00:00:00.000Z');

/** One batch run's events: `runId` with members `m0`..`m<count-1>` entering `segmentId`. */
export function runEvents(runId: string, count: number, segmentId = 's1'): NewMembershipEvent[] {
  return Array.from({ length: count }, (_, i) => ({ segmentId, memberId: `m${i}`, memberType: 'PERSON', status: 'realized', occurredAt: AT, cause: { kind: 'batch', runId } }));
}

/** The run and member of a stored event, e.g. `r3/m1`. */
export const eventKey = (event: { memberId: string; cause: { kind: string; runId?: string } }): string => `${event.cause.runId}/${event.memberId}`;

/**
 * `db` as seen by a process whose insert into the event log stores the first `stored` events
 * and then either fails with `then` (an Error) or never answers (`'die'`): the process is gone,
 * so it neither publishes nor frees the log. `reached` resolves when the insert gets there.
 */
export function breakingOnInsert(db: Db, stored: number, then: 'die' | Error): { db: Db; reached: Promise<void> } {
  let signal!: () => void;
  const reached = new Promise<void>((resolve) => (signal = resolve));
  const collection = (name: string): Collection => {
    const real = db.collection(name);
    if (name !== MEMBERSHIP_EVENTS_COLLECTION) return real;
    return forwarding(real, {
      insertMany: async (docs: unknown[]) => {
        if (stored > 0) await real.insertMany(docs.slice(0, stored) as never[], { ordered: true });
        signal();
        if (then === 'die') return new Promise<never>(() => undefined);
        throw then;
      },
    });
  };
  return { db: forwarding(db, { collection }), reached };
}

function forwarding<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(object, property) {
      if (typeof property === 'string' && property in overrides) return overrides[property];
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

/** Counts the commands `client` sends to each collection of database `database`, by command name (e.g. `insert membershipEvents`). */
export function countCommands(client: MongoClient, database: string): Map<string, number> {
  const counts = new Map<string, number>();
  client.on('commandStarted', (event) => {
    if (event.databaseName !== database) return;
    const target = event.command[event.commandName];
    const key = `${event.commandName} ${typeof target === 'string' ? target : ''}`.trim();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return counts;
}
