/**
 * LinkedIn matched audiences (DMP segments). A person audience is a contact
 * list: each person is the SHA-256 of their trimmed, lowercased email, sent to
 * `/rest/dmpSegments/{id}/users`. An account audience is a company list:
 * `companyName` and `companyWebsiteDomain` to `/rest/dmpSegments/{id}/companies`.
 * Both are BATCH_CREATE calls of ADD and REMOVE elements; LinkedIn answers 201
 * for an element added twice or removed when absent, so sending again is safe.
 */
import type { JsonObject } from '../../../../lib/subgraph/scalars.js';
import type { Connector, ConnectorDeps, DeliveryBatch, DeliveryOutcome, EnsureAudienceInput, FieldMapping, MemberType } from '../connector.js';
import { asConnectorFailure, ConnectorFailure } from '../../../../lib/connectors/failures.js';
import { isRecord } from '../../../../lib/connectors/http.js';
import { checkMappingShape, mappedAttributes } from '../mapping.js';
import { chunk, consentForbids, entriesOf, OutcomeBuilder, type BatchEntry } from '../outcome.js';
import { sha256Email } from './hashEmail.js';
import { LinkedInClient, type LinkedInConfig } from './linkedinClient.js';

/** Elements per BATCH_CREATE request. */
export const LINKEDIN_BATCH_LIMIT = 5000;

type Element = Record<string, unknown>;

export function createLinkedInConnector(config: LinkedInConfig, deps: ConnectorDeps): Connector {
  const client = new LinkedInClient(config, deps);

  function segmentIdOf(options: JsonObject): string | undefined {
    const id = options.dmpSegmentId;
    return (typeof id === 'string' && /^\d+$/.test(id)) || (typeof id === 'number' && Number.isInteger(id)) ? String(id) : undefined;
  }

  async function deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    const out = new OutcomeBuilder(batch);
    const { adds, removes } = entriesOf(batch);
    const segmentId = segmentIdOf(batch.options);
    if (!segmentId) {
      out.failedWith([...adds, ...removes], new ConnectorFailure('INVALID_OPTIONS', 'options.dmpSegmentId is missing: create the audience first (ensureAudience)', false));
      return out.build();
    }
    const ready: Array<{ entry: BatchEntry; element: Element }> = [];
    for (const entry of [...adds, ...removes]) {
      if (entry.operation === 'add' && consentForbids(entry.member)) {
        out.excluded(entry);
        continue;
      }
      const element = elementOf(entry, batch.memberType, batch.mapping);
      if (element) ready.push({ entry, element });
      // Nothing to match by: never added, so a removal has nothing to do.
      else if (entry.operation === 'remove') out.done(entry);
      else out.failed(entry, 'MISSING_IDENTITY', batch.memberType === 'PERSON' ? 'The person has no email' : 'The account has no name or domain', false);
    }
    const endpoint = batch.memberType === 'PERSON' ? 'users' : 'companies';
    for (const part of chunk(ready, LINKEDIN_BATCH_LIMIT)) {
      try {
        const answer = await client.call({
          method: 'POST',
          path: `/rest/dmpSegments/${segmentId}/${endpoint}`,
          json: { elements: part.map((item) => item.element) },
          batchCreate: true,
          endpoint,
        });
        const statuses: unknown[] = isRecord(answer.body) && Array.isArray(answer.body.elements) ? answer.body.elements : [];
        part.forEach((item, index) => {
          const status: unknown = statuses[index];
          const code = isRecord(status) && typeof status.status === 'number' ? status.status : 201;
          if (code >= 200 && code < 300) out.done(item.entry);
          else {
            const message = isRecord(status) && typeof status.message === 'string' ? status.message : `LinkedIn refused the element (${code})`;
            out.failed(item.entry, `LINKEDIN_ELEMENT_${code}`, message, code === 429 || code >= 500);
          }
        });
      } catch (error) {
        out.failedWith(part.map((item) => item.entry), asConnectorFailure(error));
      }
    }
    return out.build();
  }

  async function ensureAudience(input: EnsureAudienceInput): Promise<string> {
    if (input.existingId) return input.existingId;
    const answer = await client.call({
      method: 'POST',
      path: '/rest/dmpSegments',
      json: {
        name: input.name.slice(0, 255),
        account: `urn:li:sponsoredAccount:${config.adAccount}`,
        type: input.memberType === 'PERSON' ? 'USER' : 'COMPANY',
        destinations: [{ destination: 'LINKEDIN' }],
      },
      endpoint: 'other',
    });
    // Rest.li returns the new entity's id in a header; the body is empty.
    const id = answer.headers.get('x-restli-id') ?? (isRecord(answer.body) && answer.body.id !== undefined ? String(answer.body.id) : null);
    if (!id) throw new ConnectorFailure('LINKEDIN_NO_SEGMENT_ID', 'LinkedIn created the segment but returned no id', false);
    return id.replace(/^urn:li:dmpSegment:/, '');
  }

  return {
    type: 'LINKEDIN',
    maxBatchSize: LINKEDIN_BATCH_LIMIT,
    async testConnection() {
      try {
        // Reading the ad account proves the token and its access to the account; nothing is written.
        await client.call({ method: 'GET', path: `/rest/adAccounts/${encodeURIComponent(config.adAccount)}`, endpoint: 'other' });
        return { ok: true };
      } catch (error) {
        const failure = asConnectorFailure(error);
        return { ok: false, code: failure.code, message: failure.message };
      }
    },
    checkActivation(activation) {
      const problems = checkMappingShape(activation.mapping);
      if (activation.options.dmpSegmentId !== undefined && !segmentIdOf(activation.options)) {
        problems.push('options.dmpSegmentId must be the numeric id of a LinkedIn DMP segment');
      }
      return problems;
    },
    deliver,
    ensureAudience,
  };
}

function elementOf(entry: BatchEntry, memberType: MemberType, mapping: readonly FieldMapping[]): Element | undefined {
  const action = entry.operation === 'add' ? 'ADD' : 'REMOVE';
  const member = entry.member;
  if (memberType === 'PERSON') {
    const email = member.identities.email;
    if (typeof email !== 'string' || !email.trim()) return undefined;
    return { action, userIds: [{ idType: 'SHA256_EMAIL', idValue: sha256Email(email) }] };
  }
  const mapped = mappedAttributes(member, mapping);
  const name = text(mapped.companyName) ?? text(member.attributes.name);
  const domain = text(mapped.companyWebsiteDomain) ?? text(member.identities.domain) ?? text(member.attributes.domain);
  if (!name && !domain) return undefined;
  return { action, ...(name ? { companyName: name } : {}), ...(domain ? { companyWebsiteDomain: domain } : {}) };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}
