/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar, JSONScalar } from '../../lib/subgraph/scalars.js';
import type { SegmentContext } from './context.js';
import type { MembersArgs, MembershipWithSegment } from './membership.service.js';
import type { MembershipStatus } from './memberships.layout.js';
import type { MembershipRecord } from './memberships/memberships.repository.js';
import type { PreviewMember, PreviewSegmentInput } from './preview.service.js';
import { evaluationMethodOf, type CreateSegmentInput, type UpdateSegmentInput } from './segment.service.js';
import type { SegmentChange, SegmentRecord, TargetEntity } from './segments.repository.js';

type Ctx = SegmentContext;
type StatusArgs = { status?: MembershipStatus[] | null };
/** A member as a federation reference: the gateway fetches its fields from the owning subgraph. */
type MemberRef = Pick<MembershipRecord, 'memberId' | 'memberType'> | PreviewMember;

const profileRef = (member: MemberRef) => (member.memberType === 'PERSON' ? { __typename: 'Profile', id: member.memberId } : null);
const accountRef = (member: MemberRef) => (member.memberType === 'ACCOUNT' ? { __typename: 'Account', id: member.memberId } : null);

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  // GraphQL enum values and the stored lowercase statuses, mapped here and nowhere else.
  MembershipStatus: { REALIZED: 'realized', EXISTING: 'existing', EXITED: 'exited' },
  Query: {
    segment: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.segmentById.load(args.id),
    segments: (_: unknown, args: { first?: number | null; after?: string | null; targetEntity?: TargetEntity | null }, ctx: Ctx) =>
      ctx.services.segments.list(args),
    evaluationRun: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.evaluations.run(args.id),
    evaluationSchedule: (_: unknown, __: unknown, ctx: Ctx) => ctx.services.evaluations.schedule(),
    streamingStatus: (_: unknown, __: unknown, ctx: Ctx) => ctx.services.streaming.status(),
    previewSegment: (_: unknown, args: { input: PreviewSegmentInput }, ctx: Ctx) => ctx.services.previews.preview(args.input),
    explainMembership: (_: unknown, args: { segmentId: string; memberId: string }, ctx: Ctx) =>
      ctx.services.explanations.explain(args.segmentId, args.memberId),
  },
  Mutation: {
    createSegment: (_: unknown, args: { input: CreateSegmentInput }, ctx: Ctx) => ctx.services.segments.create(args.input),
    updateSegment: (_: unknown, args: { id: string; input: UpdateSegmentInput }, ctx: Ctx) =>
      ctx.services.segments.update(args.id, args.input),
    deleteSegment: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.segments.delete(args.id),
    evaluateSegments: (_: unknown, args: { ids?: string[] | null }, ctx: Ctx) => ctx.services.evaluations.evaluate(args.ids),
    setEvaluationSchedule: (_: unknown, args: { cron: string }, ctx: Ctx) => ctx.services.evaluations.setSchedule(args.cron),
  },
  Subscription: {
    segmentDefinitionChanged: {
      subscribe: (_: unknown, args: { segmentId?: string | null }, ctx: Ctx) => ctx.services.segments.watchChanges(args.segmentId),
      resolve: (change: SegmentChange) => change,
    },
    segmentMembershipChanged: {
      subscribe: (_: unknown, args: { segmentId: string; after?: string | null }, ctx: Ctx) =>
        ctx.services.live.membershipChanges(args.segmentId, args.after),
      resolve: (event: unknown) => event,
    },
    audienceSizeChanged: {
      subscribe: (_: unknown, args: { segmentId: string }, ctx: Ctx) => ctx.services.live.audienceSizes(args.segmentId),
      resolve: (size: unknown) => size,
    },
  },
  Segment: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.segmentById.load(reference.id),
    evaluationMethod: async (segment: SegmentRecord, _: unknown, ctx: Ctx) => evaluationMethodOf(segment, (await ctx.services.streaming.status()).live).method,
    evaluationReasons: async (segment: SegmentRecord, _: unknown, ctx: Ctx) => evaluationMethodOf(segment, (await ctx.services.streaming.status()).live).reasons,
    size: (segment: SegmentRecord, _: unknown, ctx: Ctx) => ctx.services.memberships.size(segment),
    lastEvaluation: (segment: SegmentRecord, _: unknown, ctx: Ctx) => ctx.services.memberships.lastEvaluation(segment),
    dependsOn: (segment: SegmentRecord, _: unknown, ctx: Ctx) => ctx.loaders.existingSegments(segment.dependsOn),
    usedBy: (segment: SegmentRecord, _: unknown, ctx: Ctx) => ctx.loaders.usersBySegmentId.load(segment.id),
    members: (segment: SegmentRecord, args: MembersArgs, ctx: Ctx) => ctx.services.memberships.members(segment, args),
    membershipHistory: (segment: SegmentRecord, args: { memberId: string }, ctx: Ctx) =>
      ctx.services.memberships.history(segment, args.memberId),
  },
  SegmentMember: {
    lastQualificationTime: (membership: MembershipRecord, _: unknown, ctx: Ctx) => ctx.services.memberships.lastQualificationTime(membership),
    profile: profileRef,
    account: accountRef,
  },
  SegmentPreviewMember: { profile: profileRef, account: accountRef },
  SegmentMembership: {
    segment: (row: MembershipWithSegment) => row.segment,
    status: (row: MembershipWithSegment) => row.membership.status,
    lastQualificationTime: (row: MembershipWithSegment, _: unknown, ctx: Ctx) => ctx.services.memberships.lastQualificationTime(row.membership),
  },
  // Profiles and accounts are owned by other subgraphs; here a reference is its id.
  Profile: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    segmentMemberships: (profile: { id: string }, args: StatusArgs, ctx: Ctx) => ctx.services.memberships.ofMember(profile.id, 'PERSON', args.status),
  },
  Account: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    audienceMemberships: (account: { id: string }, args: StatusArgs, ctx: Ctx) => ctx.services.memberships.ofMember(account.id, 'ACCOUNT', args.status),
  },
};
