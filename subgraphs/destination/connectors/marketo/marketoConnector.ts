/**
 * Marketo Engage: person audiences as a static list. Adds find each person's
 * lead (by email, or by ECID in a custom field; a lead id already known from a
 * Marketo source of the same instance skips the lookup), or createOrUpdate
 * leads when the activation creates missing ones, then add the lead ids to the
 * list; removes take them out. At most 300 records per call. Record-level
 * statuses become that member's result: 1004 (not found), 1005, 1007 (several
 * leads match) are permanent failures; a lead that is absent or not in the list
 * counts as removed.
 */
import { isSourceKey, parseSourceKey } from '../../../../lib/identity/sourceKey.js';
import type { BudgetLimits } from '../../../../lib/connectors/callBudget.js';
import type { Connector, ConnectorDeps, DeliveryBatch, DeliveryMember, DeliveryOutcome, DestinationMember, FieldMapping, ListMembersQuery } from '../connector.js';
import { asConnectorFailure, ConnectorFailure } from '../../../../lib/connectors/failures.js';
import { isScalar, mappedAttributes } from '../mapping.js';
import { chunk, consentForbids, entriesOf, OutcomeBuilder, type BatchEntry } from '../outcome.js';
import { MARKETO_BATCH_LIMIT, MarketoClient, type MarketoConfig } from '../../../../lib/marketo/marketoClient.js';
import { changeList, findLeads, listLeads, normalizeKey, upsertLeads } from './marketoLeads.js';
import { checkMarketoActivation, parseMarketoOptions, type MarketoOptions } from './marketoOptions.js';

/** Members that share one lookup value (one lead), and the lead ids found for them. */
interface LeadTarget {
  key: string;
  entries: BatchEntry[];
  ids: number[];
}

export function createMarketoConnector(config: MarketoConfig, deps: ConnectorDeps, limits?: BudgetLimits): Connector {
  const client = new MarketoClient(config, deps, limits);
  const munchkinId = new URL(config.restUrl).host.split('.')[0]!.toLowerCase();

  async function deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    const out = new OutcomeBuilder(batch);
    const { adds, removes } = entriesOf(batch);
    const options = parseMarketoOptions(batch.options);
    if (typeof options === 'string') {
      out.failedWith([...adds, ...removes], new ConnectorFailure('INVALID_OPTIONS', options, false));
      return out.build();
    }
    const lookupField = options.matchBy === 'email' ? 'email' : options.ecidField;

    const toAdd: LeadTarget[] = [];
    const toFind = new Map<string, BatchEntry[]>();
    for (const entry of adds) {
      if (consentForbids(entry.member)) {
        out.excluded(entry);
        continue;
      }
      const known = options.createMissingLeads ? undefined : knownLeadId(entry.member, munchkinId);
      if (known !== undefined) {
        toAdd.push({ key: `id:${known}`, entries: [entry], ids: [known] });
        continue;
      }
      const key = lookupValue(entry.member, options);
      if (!key) out.failed(entry, 'MISSING_IDENTITY', `The person has no ${options.matchBy === 'email' ? 'email' : 'ECID'} to match a Marketo lead by`, false);
      else toFind.set(key, [...(toFind.get(key) ?? []), entry]);
    }
    const found = options.createMissingLeads
      ? await upsertTargets(toFind, batch.mapping, lookupField, out)
      : await lookupTargets(toFind, lookupField, 'add', out);
    await applyToList('POST', options.listId, [...toAdd, ...found], out);

    const toRemove: LeadTarget[] = [];
    const toFindForRemoval = new Map<string, BatchEntry[]>();
    for (const entry of removes) {
      const known = knownLeadId(entry.member, munchkinId);
      const key = lookupValue(entry.member, options);
      if (known !== undefined) toRemove.push({ key: `id:${known}`, entries: [entry], ids: [known] });
      // Nothing to match by: the person can never have been added, so there is nothing to take out.
      else if (!key) out.done(entry);
      else toFindForRemoval.set(key, [...(toFindForRemoval.get(key) ?? []), entry]);
    }
    const foundForRemoval = await lookupTargets(toFindForRemoval, lookupField, 'remove', out);
    await applyToList('DELETE', options.listId, [...toRemove, ...foundForRemoval], out);
    return out.build();
  }

  async function lookupTargets(groups: Map<string, BatchEntry[]>, lookupField: string, purpose: 'add' | 'remove', out: OutcomeBuilder): Promise<LeadTarget[]> {
    const targets: LeadTarget[] = [];
    for (const keys of chunk([...groups.keys()], MARKETO_BATCH_LIMIT)) {
      let found: Map<string, number[]>;
      try {
        found = await findLeads(client, keys, lookupField);
      } catch (error) {
        out.failedWith(keys.flatMap((key) => groups.get(key)!), asConnectorFailure(error));
        continue;
      }
      for (const key of keys) {
        const entries = groups.get(key)!;
        const ids = found.get(key) ?? [];
        if (purpose === 'remove') {
          // No lead, nothing in the list: already removed. Several leads: take every one out.
          if (ids.length === 0) entries.forEach((entry) => out.done(entry));
          else targets.push({ key, entries, ids });
        } else if (ids.length === 0) {
          entries.forEach((entry) => out.failed(entry, 'MARKETO_1004', 'Lead not found', false));
        } else if (ids.length > 1) {
          entries.forEach((entry) => out.failed(entry, 'MARKETO_1007', 'Multiple leads match the lookup criteria', false));
        } else {
          targets.push({ key, entries, ids });
        }
      }
    }
    return targets;
  }

  async function upsertTargets(groups: Map<string, BatchEntry[]>, mapping: readonly FieldMapping[], lookupField: string, out: OutcomeBuilder): Promise<LeadTarget[]> {
    const targets: LeadTarget[] = [];
    const ready: Array<{ key: string; input: Record<string, string | number | boolean | null> }> = [];
    for (const [key, entries] of groups) {
      const first = entries[0]!.member;
      const attributes = mappedAttributes(first, mapping);
      const bad = Object.entries(attributes).find(([, value]) => !isScalar(value));
      if (bad) {
        entries.forEach((entry) => out.failed(entry, 'INVALID_ATTRIBUTE', `Field ${bad[0]} holds a list or map; Marketo lead fields take single values`, false));
        continue;
      }
      const lookupValueAsSent = lookupField === 'email' ? (first.identities.email ?? key).trim() : key;
      ready.push({ key, input: { ...attributes, [lookupField]: lookupValueAsSent } });
    }
    for (const part of chunk(ready, MARKETO_BATCH_LIMIT)) {
      let statuses;
      try {
        statuses = await upsertLeads(client, part.map((item) => item.input), lookupField);
      } catch (error) {
        out.failedWith(part.flatMap((item) => groups.get(item.key)!), asConnectorFailure(error));
        continue;
      }
      part.forEach((item, index) => {
        const status = statuses[index]!;
        const entries = groups.get(item.key)!;
        if (status.ok && status.id !== undefined) targets.push({ key: item.key, entries, ids: [status.id] });
        else entries.forEach((entry) => out.failed(entry, `MARKETO_${status.code}`, status.message ?? 'Skipped', false));
      });
    }
    return targets;
  }

  async function applyToList(method: 'POST' | 'DELETE', listId: number, targets: LeadTarget[], out: OutcomeBuilder): Promise<void> {
    const byId = new Map<number, LeadTarget[]>();
    for (const target of targets) for (const id of target.ids) byId.set(id, [...(byId.get(id) ?? []), target]);
    const failures = new Map<LeadTarget, ConnectorFailure>();
    for (const ids of chunk([...byId.keys()], MARKETO_BATCH_LIMIT)) {
      try {
        const statuses = await changeList(client, method, listId, ids);
        for (const id of ids) {
          const status = statuses.get(id);
          // On removal, 1015 (not in the list) and 1004 (no such lead) are the outcome removal wants.
          if (status?.ok || (method === 'DELETE' && (status?.code === '1015' || status?.code === '1004'))) continue;
          const failure = status
            ? new ConnectorFailure(`MARKETO_${status.code}`, status.message ?? 'Skipped', false)
            : new ConnectorFailure('MARKETO_MISSING_RESULT', 'Marketo returned no status for this lead', true);
          for (const target of byId.get(id)!) if (!failures.has(target)) failures.set(target, failure);
        }
      } catch (error) {
        const failure = asConnectorFailure(error);
        for (const id of ids) for (const target of byId.get(id)!) if (!failures.has(target)) failures.set(target, failure);
      }
    }
    for (const target of targets) {
      const failure = failures.get(target);
      if (failure) out.failedWith(target.entries, failure);
      else target.entries.forEach((entry) => out.done(entry));
    }
  }

  async function* listMembers(query: ListMembersQuery): AsyncGenerator<DestinationMember> {
    const options = parseMarketoOptions(query.options);
    if (typeof options === 'string') throw new ConnectorFailure('INVALID_OPTIONS', options, false);
    for await (const lead of listLeads(client, options.listId)) {
      yield { key: lead.email ? lead.email.trim().toLowerCase() : `id:${lead.id}`, externalId: String(lead.id) };
    }
  }

  return {
    type: 'MARKETO',
    maxBatchSize: MARKETO_BATCH_LIMIT,
    async testConnection() {
      try {
        await client.token();
        // A one-record read proves the REST endpoint and the token's permissions, and writes nothing.
        await client.call({ method: 'GET', path: '/v1/lists.json', query: { batchSize: '1' } });
        return { ok: true };
      } catch (error) {
        const failure = asConnectorFailure(error);
        return { ok: false, code: failure.code, message: failure.message };
      }
    },
    checkActivation: checkMarketoActivation,
    deliver,
    listMembers,
  };
}

function lookupValue(member: DeliveryMember, options: MarketoOptions): string | undefined {
  const raw = options.matchBy === 'email' ? member.identities.email : member.identities.ecid;
  if (typeof raw !== 'string' || !raw.trim()) return undefined;
  const key = normalizeKey(raw, options.matchBy === 'email' ? 'email' : options.ecidField);
  // Marketo splits filterValues on commas; such a value cannot be looked up.
  return key.includes(',') ? undefined : key;
}

/** A lead id from the person's Marketo source key of this instance (`1234@123-ABC-456.Marketo`). */
function knownLeadId(member: DeliveryMember, munchkinId: string): number | undefined {
  for (const value of Object.values(member.identities)) {
    if (typeof value !== 'string' || !isSourceKey(value)) continue;
    const key = parseSourceKey(value);
    if (key.sourceType.toLowerCase() !== 'marketo' || key.instanceId.toLowerCase() !== munchkinId) continue;
    const id = Number(key.sourceId);
    if (Number.isSafeInteger(id) && id > 0) return id;
  }
  return undefined;
}
