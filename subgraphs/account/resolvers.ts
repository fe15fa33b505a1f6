/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar } from '../../lib/subgraph/scalars.js';
import type { AccountInput } from './account.service.js';
import type { AccountRecord } from './accounts.repository.js';
import type { AccountContext } from './context.js';
import type { OpportunityRecord } from './opportunities.repository.js';
import type { OpportunityInput } from './opportunity.service.js';
import type { RelationRecord, RelationWithAccount } from './relations.repository.js';
import { liveLinks, primaryAccount, type AccountPersonLinkInput } from './relation.service.js';

type Ctx = AccountContext;
type PageArgs = { first?: number | null; after?: string | null };

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  Query: {
    account: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.accountById.load(args.id),
    accounts: (_: unknown, args: PageArgs, ctx: Ctx) => ctx.services.accounts.list(args),
    opportunity: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.opportunityById.load(args.id),
  },
  Mutation: {
    upsertAccounts: (_: unknown, args: { accounts: AccountInput[] }, ctx: Ctx) =>
      ctx.services.accounts.upsertAccounts(args.accounts),
    upsertOpportunities: (_: unknown, args: { opportunities: OpportunityInput[] }, ctx: Ctx) =>
      ctx.services.opportunities.upsertOpportunities(args.opportunities),
    linkPeopleToAccounts: (_: unknown, args: { links: AccountPersonLinkInput[] }, ctx: Ctx) =>
      ctx.services.relations.linkPeopleToAccounts(args.links),
  },
  Account: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.accountById.load(reference.id),
    opportunities: (account: AccountRecord, _: unknown, ctx: Ctx) => ctx.loaders.opportunitiesByAccountId.load(account.id),
    people: (account: AccountRecord, _: unknown, ctx: Ctx) => ctx.loaders.relationsByAccountId.load(account.id),
  },
  Opportunity: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.opportunityById.load(reference.id),
    account: (opportunity: OpportunityRecord, _: unknown, ctx: Ctx) => ctx.loaders.accountById.load(opportunity.accountId),
  },
  // Profiles are owned by the profile subgraph; here a reference is just its id.
  Profile: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    account: async (profile: { id: string }, _: unknown, ctx: Ctx) =>
      primaryAccount(await ctx.loaders.accountLinksByPersonId.load(profile.id)),
    accounts: async (profile: { id: string }, _: unknown, ctx: Ctx) =>
      liveLinks(await ctx.loaders.accountLinksByPersonId.load(profile.id)),
  },
  AccountPersonRelation: {
    account: (relation: RelationRecord | RelationWithAccount, _: unknown, ctx: Ctx) =>
      'account' in relation && relation.account ? relation.account : ctx.loaders.accountById.load(relation.accountId),
    person: (relation: RelationRecord) => ({ id: relation.personId }),
  },
};
