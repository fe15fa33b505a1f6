/** The API's two link inputs, as the shared person-link service reads them. */
import type { PersonLinkInput } from './personLink.service.js';

export interface AccountPersonLinkInput {
  sourceKey?: string | null;
  personId?: string | null;
  personSourceKey?: string | null;
  accountId?: string | null;
  accountSourceKey?: string | null;
  isPrimary?: boolean | null;
  jobRole?: string | null;
}

export interface OpportunityContactInput {
  sourceKey?: string | null;
  opportunityId?: string | null;
  opportunitySourceKey?: string | null;
  personId?: string | null;
  personSourceKey?: string | null;
  role?: string | null;
  isPrimary?: boolean | null;
}

export function fromAccountPersonLink({ accountId, accountSourceKey, jobRole, ...rest }: AccountPersonLinkInput): PersonLinkInput {
  return { ...rest, targetId: accountId, targetSourceKey: accountSourceKey, role: jobRole };
}

export function fromOpportunityContact({ opportunityId, opportunitySourceKey, ...rest }: OpportunityContactInput): PersonLinkInput {
  return { ...rest, targetId: opportunityId, targetSourceKey: opportunitySourceKey };
}
