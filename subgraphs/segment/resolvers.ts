/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar } from '../../lib/subgraph/scalars.js';
import type { SegmentContext } from './context.js';
import type { CreateSegmentInput, UpdateSegmentInput } from './segment.service.js';
import type { SegmentChange, TargetEntity } from './segments.repository.js';

type Ctx = SegmentContext;

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  Query: {
    segment: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.segmentById.load(args.id),
    segments: (_: unknown, args: { first?: number | null; after?: string | null; targetEntity?: TargetEntity | null }, ctx: Ctx) =>
      ctx.services.segments.list(args),
  },
  Mutation: {
    createSegment: (_: unknown, args: { input: CreateSegmentInput }, ctx: Ctx) => ctx.services.segments.create(args.input),
    updateSegment: (_: unknown, args: { id: string; input: UpdateSegmentInput }, ctx: Ctx) =>
      ctx.services.segments.update(args.id, args.input),
    deleteSegment: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.segments.delete(args.id),
  },
  Subscription: {
    segmentDefinitionChanged: {
      subscribe: (_: unknown, args: { segmentId?: string | null }, ctx: Ctx) => ctx.services.segments.watchChanges(args.segmentId),
      resolve: (change: SegmentChange) => change,
    },
  },
  Segment: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.segmentById.load(reference.id),
  },
};
