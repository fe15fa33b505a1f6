/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar, JSONScalar } from '../../lib/subgraph/scalars.js';
import type { ActivateSegmentInput } from './activations/activation.service.js';
import { mappingObject } from './activations/activationMapping.js';
import type { ActivationRecord } from './activations/activations.repository.js';
import type { FailedChange } from './activations/failedChanges.repository.js';
import { redactSecrets } from './configSecrets.js';
import type { DestinationContext } from './context.js';
import type { CreateDestinationInput, UpdateDestinationInput } from './destination.service.js';
import type { DestinationRecord, DestinationType } from './destinations.repository.js';

type Ctx = DestinationContext;
type PageArgs = { first?: number | null; after?: string | null };

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query: {
    destination: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.destinationById.load(args.id),
    destinations: (_: unknown, args: { first?: number | null; after?: string | null; type?: DestinationType | null }, ctx: Ctx) =>
      ctx.services.destinations.list(args),
    activation: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.activationById.load(args.id),
    activations: (_: unknown, args: PageArgs & { segmentId?: string | null; destinationId?: string | null }, ctx: Ctx) => ctx.services.activations.list(args),
  },
  Mutation: {
    createDestination: (_: unknown, args: { input: CreateDestinationInput }, ctx: Ctx) => ctx.services.destinations.create(args.input),
    updateDestination: (_: unknown, args: { id: string; input: UpdateDestinationInput }, ctx: Ctx) =>
      ctx.services.destinations.update(args.id, args.input),
    deleteDestination: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.destinations.delete(args.id),
    testConnection: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.destinations.testConnection(args.id),
    activateSegment: (_: unknown, args: { input: ActivateSegmentInput }, ctx: Ctx) => ctx.services.activations.activate(args.input),
    deactivateSegment: (_: unknown, args: { id: string; removeMembers?: boolean | null }, ctx: Ctx) =>
      ctx.services.activations.deactivate(args.id, args.removeMembers === true),
    redriveDeadLetters: (_: unknown, args: { activationId: string }, ctx: Ctx) => ctx.services.activations.redrive(args.activationId),
    reconcileActivation: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.activations.reconcile(args.id),
  },
  Destination: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.destinationById.load(reference.id),
    hasCredentials: (destination: DestinationRecord) => destination.credentialsUpdatedAt !== null,
    config: (destination: DestinationRecord) => redactSecrets(destination.config),
  },
  Segment: {
    activations: (segment: { id: string }, _: unknown, ctx: Ctx) => ctx.loaders.activationsBySegment.load(segment.id),
  },
  Activation: {
    segment: (activation: ActivationRecord) => ({ __typename: 'Segment', id: activation.segmentId }),
    destination: (activation: ActivationRecord, _: unknown, ctx: Ctx) => ctx.loaders.destinationById.load(activation.destinationId),
    mapping: (activation: ActivationRecord) => mappingObject(activation.mapping),
    backfilled: (activation: ActivationRecord) => activation.backfill.done,
    pendingRetries: (activation: ActivationRecord, _: unknown, ctx: Ctx) => ctx.services.activations.pendingRetries(activation.id),
    deadLetterCount: async (activation: ActivationRecord, _: unknown, ctx: Ctx) => (await ctx.services.activations.deadLetters(activation.id, { first: 1 })).totalCount,
    deadLetters: (activation: ActivationRecord, args: PageArgs, ctx: Ctx) => ctx.services.activations.deadLetters(activation.id, args),
  },
  DeadLetter: {
    operation: (letter: FailedChange) => (letter.operation === 'add' ? 'ADD' : 'REMOVE'),
  },
};
