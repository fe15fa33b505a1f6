/**
 * Reconcile: read what the destination holds back, compare it with the
 * segment's current audience, and repair the drift (someone edited the Marketo
 * list by hand, a file was replaced). Where the destination can be read:
 *   - Marketo: the static list's leads, by email. Members missing from the list
 *     are added; leads in the list that are not in the audience (or whose person
 *     refused marketing email) are removed. Leads with no email cannot be matched
 *     and are counted `unmatched`, not touched.
 *   - Files (FULL mode): the newest complete file set. On any drift the whole
 *     audience is written again as a new file set, which is how a full file is repaired.
 * LinkedIn does not let matched audiences be read back, and webhooks and
 * INCREMENTAL files hold changes rather than a list: those are refused.
 *
 * It runs beside streaming delivery: a member that changes while a reconcile
 * runs is delivered by the stream after it, as the stream delivers every change.
 */
import type { Db } from 'mongodb';
import { badInput } from '../../../lib/errors.js';
import { currentMemberPages } from '../../segment/segment.view.js';
import type { Connector, DeliveryCounts, DeliveryMember } from '../connectors/index.js';
import type { ActivationRecord } from './activations.repository.js';
import { ZERO_COUNTS } from './activations.repository.js';
import { deliverSafely } from './changeOutcomes.js';
import { resolveMembers } from './deliveryMembers.js';

export interface ReconcileReport {
  /** Members the destination held when read. */
  destinationCount: number;
  /** The audience's current members the destination should hold. */
  expectedCount: number;
  /** Missing members sent to the destination. */
  added: number;
  /** Extra members taken out of the destination. */
  removed: number;
  /** Repairs the destination refused; the next delivery or reconcile tries again. */
  failed: number;
  /** Destination entries that cannot be matched to a person (a lead with no email). */
  unmatched: number;
  /** The run id the repair was sent under; null when nothing needed repair. */
  runId: string | null;
}

const PAGE = 1_000;

async function* audience(db: Db, activation: ActivationRecord): AsyncGenerator<DeliveryMember[]> {
  const pages = currentMemberPages(db, activation.segmentId, { pageSize: PAGE });
  try {
    for (;;) {
      const page = await pages.next();
      if (page.length === 0) return;
      yield await resolveMembers(db, activation.memberType, page.map((member) => member.memberId), activation.mapping);
    }
  } finally {
    await pages.close();
  }
}

function addCounts(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return { delivered: a.delivered + b.delivered, removed: a.removed + b.removed, failed: a.failed + b.failed, excluded: a.excluded + b.excluded };
}

async function sendInBatches(connector: Connector, activation: ActivationRecord, runId: string, adds: DeliveryMember[], removes: DeliveryMember[]): Promise<DeliveryCounts> {
  let counts = ZERO_COUNTS;
  const size = connector.maxBatchSize;
  let sequence = 0;
  for (const [list, kind] of [[adds, 'adds'], [removes, 'removes']] as const) {
    for (let start = 0; start < list.length; start += size) {
      const part = list.slice(start, start + size);
      const outcome = await deliverSafely(connector, {
        activationId: activation.id,
        segmentId: activation.segmentId,
        runId,
        sequence: sequence++,
        memberType: activation.memberType,
        adds: kind === 'adds' ? part : [],
        removes: kind === 'removes' ? part : [],
        mapping: activation.mapping,
        options: activation.options,
      });
      counts = addCounts(counts, outcome.counts);
    }
  }
  return counts;
}

export interface ReconcileContext {
  db: Db;
  activation: ActivationRecord;
  connector: Connector;
  runId: string;
  /** Files: stores the new complete file set as the one to read back next time. */
  recordFileRun(runId: string): Promise<void>;
}

export async function reconcileActivation(context: ReconcileContext): Promise<ReconcileReport> {
  const { activation, connector } = context;
  if (!connector.listMembers) {
    throw badInput(`${activation.destinationType} destinations cannot be read back, so there is nothing to reconcile against`, { field: 'id' });
  }
  if (activation.destinationType === 'CLOUD_STORAGE') return reconcileFiles(context);
  return reconcileList(context);
}

async function reconcileList({ db, activation, connector, runId }: ReconcileContext): Promise<ReconcileReport> {
  const held = new Set<string>();
  let unmatched = 0;
  for await (const entry of connector.listMembers!({ activationId: activation.id, memberType: activation.memberType, options: activation.options })) {
    if (entry.key.startsWith('id:')) unmatched++;
    else held.add(entry.key);
  }
  const destinationCount = held.size + unmatched;
  const adds: DeliveryMember[] = [];
  let expectedCount = 0;
  for await (const members of audience(db, activation)) {
    for (const member of members) {
      const email = member.identities.email?.trim().toLowerCase();
      // Refused consent or no email: such a person should not be in the list at all.
      if (!email || member.consentMarketingEmail === 'n') continue;
      expectedCount++;
      if (!held.delete(email)) adds.push(member);
    }
  }
  // What is left in `held` is in the list but not (or no longer allowed) in the audience.
  const removes: DeliveryMember[] = [...held].map((email) => ({ memberId: `external:${email}`, memberType: 'PERSON', identities: { email }, attributes: {} }));
  if (adds.length === 0 && removes.length === 0) return { destinationCount, expectedCount, added: 0, removed: 0, failed: 0, unmatched, runId: null };
  const counts = await sendInBatches(connector, activation, runId, adds, removes);
  return { destinationCount, expectedCount, added: counts.delivered, removed: counts.removed, failed: counts.failed, unmatched, runId };
}

async function reconcileFiles({ db, activation, connector, runId, recordFileRun }: ReconcileContext): Promise<ReconcileReport> {
  if (activation.options.mode !== 'FULL') {
    throw badInput('INCREMENTAL files are a log of entries and exits, not a list: reconcile reads FULL files back', { field: 'id' });
  }
  const held = new Set<string>();
  if (activation.fileRunId) {
    for await (const entry of connector.listMembers!({ activationId: activation.id, memberType: activation.memberType, options: activation.options, runId: activation.fileRunId })) held.add(entry.key);
  }
  const destinationCount = held.size;
  let expectedCount = 0;
  let added = 0;
  for await (const members of audience(db, activation)) {
    for (const member of members) {
      expectedCount++;
      if (!held.delete(member.memberId)) added++;
    }
  }
  const removed = held.size;
  if (added === 0 && removed === 0 && activation.fileRunId) return { destinationCount, expectedCount, added: 0, removed: 0, failed: 0, unmatched: 0, runId: null };
  // A second pass writes the whole audience again, page by page, so memory stays bounded by a page.
  let sequence = 0;
  let failed = 0;
  for await (const members of audience(db, activation)) {
    const outcome = await deliverSafely(connector, {
      activationId: activation.id,
      segmentId: activation.segmentId,
      runId,
      sequence: sequence++,
      memberType: activation.memberType,
      adds: members,
      removes: [],
      mapping: activation.mapping,
      options: activation.options,
    });
    failed += outcome.counts.failed;
  }
  if (failed === 0) await recordFileRun(runId);
  return { destinationCount, expectedCount, added, removed, failed, unmatched: 0, runId };
}
