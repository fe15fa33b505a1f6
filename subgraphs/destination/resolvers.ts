/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar, JSONScalar } from '../../lib/subgraph/scalars.js';
import type { DestinationContext } from './context.js';
import type { CreateDestinationInput, UpdateDestinationInput } from './destination.service.js';
import type { DestinationRecord, DestinationType } from './destinations.repository.js';

type Ctx = DestinationContext;

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query: {
    destination: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.destinationById.load(args.id),
    destinations: (_: unknown, args: { first?: number | null; after?: string | null; type?: DestinationType | null }, ctx: Ctx) =>
      ctx.services.destinations.list(args),
  },
  Mutation: {
    createDestination: (_: unknown, args: { input: CreateDestinationInput }, ctx: Ctx) => ctx.services.destinations.create(args.input),
    updateDestination: (_: unknown, args: { id: string; input: UpdateDestinationInput }, ctx: Ctx) =>
      ctx.services.destinations.update(args.id, args.input),
    deleteDestination: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.destinations.delete(args.id),
    testConnection: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.destinations.testConnection(args.id),
  },
  Destination: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.destinationById.load(reference.id),
    hasCredentials: (destination: DestinationRecord) => destination.credentialsUpdatedAt !== null,
  },
};
