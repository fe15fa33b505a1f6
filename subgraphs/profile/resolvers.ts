/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar } from '../../lib/subgraph/scalars.js';
import type { ProfileContext } from './context.js';
import type { PersonInput } from './profile.service.js';

export const resolvers: GraphQLResolverMap<ProfileContext> = {
  DateTime: DateTimeScalar,
  Query: {
    profile: (_: unknown, args: { id: string }, ctx: ProfileContext) => ctx.loaders.profileById.load(args.id),
    profileByIdentity: (_: unknown, args: { namespace: string; value: string }, ctx: ProfileContext) =>
      ctx.services.profiles.findByIdentity(args.namespace, args.value),
    profiles: (_: unknown, args: { first?: number | null; after?: string | null }, ctx: ProfileContext) =>
      ctx.services.profiles.list(args),
  },
  Mutation: {
    upsertPeople: (_: unknown, args: { people: PersonInput[] }, ctx: ProfileContext) =>
      ctx.services.profiles.upsertPeople(args.people),
  },
  Profile: {
    __resolveReference: (reference: { id: string }, ctx: ProfileContext) => ctx.loaders.profileById.load(reference.id),
  },
};
