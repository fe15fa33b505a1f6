/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar, JSONScalar } from '../../lib/subgraph/scalars.js';
import type { AccountInput } from './account.service.js';
import type { AccountRecord } from './accounts.repository.js';
import type { AccountContext } from './context.js';
import { fromAccountPersonLink, fromOpportunityContact, type AccountPersonLinkInput, type OpportunityContactInput } from './linkInputs.js';
import { loadAll } from './loaders.js';
import type { OpportunityRecord } from './opportunities.repository.js';
import type { OpportunityInput } from './opportunity.service.js';
import { distinctByTarget, primaryTarget, type PersonLinkResult } from './personLink.service.js';
import type { PersonLink, PersonLinkWithTarget } from './personLinks.repository.js';
import { listSize, profileIdOf, profileLinkKeys } from './references.js';

type Ctx = AccountContext;
type PageArgs = { first?: number | null; after?: string | null };
type ListArgs = { first?: number | null };
/** A Profile representation after `__resolveReference`: its id and the person keys links may use. */
type ProfileRef = { id: string; linkKeys: string[] };
type Link = PersonLink | PersonLinkWithTarget<AccountRecord | OpportunityRecord>;

/** The joined target when the link came with one, else through the loader. */
function joined<T>(link: Link, load: () => Promise<T | null>): T | Promise<T | null> {
  return 'target' in link && link.target ? (link.target as T) : load();
}

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query: {
    account: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.accountById.load(args.id),
    accountBySourceKey: (_: unknown, args: { sourceKey: string }, ctx: Ctx) => ctx.services.accounts.bySourceKey(args.sourceKey),
    accounts: (_: unknown, args: PageArgs, ctx: Ctx) => ctx.services.accounts.list(args),
    opportunity: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.opportunityById.load(args.id),
  },
  Mutation: {
    upsertAccounts: (_: unknown, args: { accounts: AccountInput[] }, ctx: Ctx) => ctx.services.accounts.upsertAccounts(args.accounts),
    upsertOpportunities: (_: unknown, args: { opportunities: OpportunityInput[] }, ctx: Ctx) =>
      ctx.services.opportunities.upsertOpportunities(args.opportunities),
    linkPeopleToAccounts: (_: unknown, args: { links: AccountPersonLinkInput[] }, ctx: Ctx) =>
      ctx.services.accountLinks.upsertLinks(args.links.map(fromAccountPersonLink), 'links'),
    addOpportunityContacts: (_: unknown, args: { contacts: OpportunityContactInput[] }, ctx: Ctx) =>
      ctx.services.opportunityContacts.upsertLinks(args.contacts.map(fromOpportunityContact), 'contacts'),
  },
  Account: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.accountById.load(reference.id),
    parent: (account: AccountRecord, _: unknown, ctx: Ctx) => (account.parentId ? ctx.loaders.accountById.load(account.parentId) : null),
    opportunities: (account: AccountRecord, args: ListArgs, ctx: Ctx) => ctx.loaders.opportunitiesByAccountId(listSize(args.first)).load(account.id),
    people: (account: AccountRecord, args: ListArgs, ctx: Ctx) => ctx.loaders.relationsByAccountId(listSize(args.first)).load(account.id),
  },
  Opportunity: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.opportunityById.load(reference.id),
    account: (opportunity: OpportunityRecord, _: unknown, ctx: Ctx) => ctx.loaders.accountById.load(opportunity.accountId),
    contacts: (opportunity: OpportunityRecord, args: ListArgs, ctx: Ctx) => ctx.loaders.contactsByOpportunityId(listSize(args.first)).load(opportunity.id),
  },
  // Profiles are owned by the profile subgraph; here a reference is its id and the keys links may name it by.
  Profile: {
    __resolveReference: (reference: { id: string; linkKeys?: unknown }): ProfileRef => ({ id: reference.id, linkKeys: profileLinkKeys(reference) }),
    account: async (profile: ProfileRef, _: unknown, ctx: Ctx) => primaryTarget(await loadAll(ctx.loaders.accountLinksByPersonKey, profile.linkKeys)),
    accounts: async (profile: ProfileRef, _: unknown, ctx: Ctx) => distinctByTarget(await loadAll(ctx.loaders.accountLinksByPersonKey, profile.linkKeys)),
    opportunities: async (profile: ProfileRef, _: unknown, ctx: Ctx) =>
      distinctByTarget(await loadAll(ctx.loaders.opportunityLinksByPersonKey, profile.linkKeys)),
  },
  AccountPersonRelation: {
    account: (link: Link, _: unknown, ctx: Ctx) => joined(link, () => ctx.loaders.accountById.load(link.targetId)),
    person: (link: PersonLink) => personRef(link),
    jobRole: (link: PersonLink) => link.role ?? null,
  },
  OpportunityContact: {
    opportunity: (link: Link, _: unknown, ctx: Ctx) => joined(link, () => ctx.loaders.opportunityById.load(link.targetId)),
    person: (link: PersonLink) => personRef(link),
  },
  AccountPersonLinkResult: { relation: (result: PersonLinkResult) => result.link },
  OpportunityContactResult: { contact: (result: PersonLinkResult) => result.link },
};

/** The person as a Profile reference when the link names a profile id; a person named by source key resolves through its profile's linkKeys instead. */
function personRef(link: PersonLink): { id: string } | null {
  const id = profileIdOf(link.personKey);
  return id === null ? null : { id };
}
