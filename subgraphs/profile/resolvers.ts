/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar, JSONScalar } from '../../lib/subgraph/scalars.js';
import { AttributesScalar } from './attributesScalar.js';
import type { ProfileContext } from './context.js';
import type { EventInput, EventsArgs } from './event.service.js';
import type { MergeRecord } from './identityGraph.js';
import type { ImportRecord, StartImportInput } from './imports/index.js';
import type { MergePolicyInput } from './merge.service.js';
import type { PersonInput } from './personInput.js';
import { linkKeys, type ProfileRecord } from './profileView.js';

type Ctx = ProfileContext;

/** A fragment key names its record: the source key for sourced records, else its anchor identity. */
const recordName = (fragmentId: string) => fragmentId.replace(/^b2b_person:/, '');

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Attributes: AttributesScalar,
  Query: {
    profile: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.loaders.profileById.load(args.id),
    profileByIdentity: (_: unknown, args: { namespace: string; value: string }, ctx: Ctx) =>
      ctx.services.profiles.findByIdentity(args.namespace, args.value),
    profiles: (_: unknown, args: { first?: number | null; after?: string | null }, ctx: Ctx) => ctx.services.profiles.list(args),
    mergePolicy: (_: unknown, __: unknown, ctx: Ctx) => ctx.services.merges.mergePolicy(),
    import: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.imports.get(args.id),
    imports: (_: unknown, args: { first?: number | null }, ctx: Ctx) => ctx.services.imports.list(args.first),
  },
  Mutation: {
    upsertPeople: (_: unknown, args: { people: PersonInput[] }, ctx: Ctx) => ctx.services.profiles.upsertPeople(args.people),
    ingestEvents: (_: unknown, args: { events: EventInput[] }, ctx: Ctx) => ctx.services.events.ingestEvents(args.events),
    unmergeProfile: (_: unknown, args: { id: string; mergeId?: string | null }, ctx: Ctx) =>
      ctx.services.merges.unmergeProfile(args.id, args.mergeId),
    setMergePolicy: (_: unknown, args: { input: MergePolicyInput }, ctx: Ctx) => ctx.services.merges.setMergePolicy(args.input),
    startImport: (_: unknown, args: { input: StartImportInput }, ctx: Ctx) => ctx.services.imports.start(args.input),
    uploadImportChunk: (_: unknown, args: { importId: string; index: number; content: string }, ctx: Ctx) =>
      ctx.services.imports.uploadChunk(args.importId, args.index, args.content),
    completeImportUpload: (_: unknown, args: { importId: string; chunkCount: number }, ctx: Ctx) =>
      ctx.services.imports.completeUpload(args.importId, args.chunkCount),
  },
  Profile: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.profileById.load(reference.id),
    events: (profile: ProfileRecord, args: EventsArgs, ctx: Ctx) => ctx.services.events.eventsOf(profile, args),
    merges: (profile: ProfileRecord, _: unknown, ctx: Ctx) => ctx.services.profiles.merges(profile),
    linkKeys: (profile: ProfileRecord) => linkKeys(profile),
  },
  Import: {
    errors: (record: ImportRecord, args: { first?: number | null; after?: number | null }, ctx: Ctx) =>
      ctx.services.imports.errors(record.id, args.first, args.after),
  },
  ProfileMerge: {
    absorbedProfileIds: (merge: MergeRecord) => merge.absorbed.map((part) => part.profileId),
    records: (merge: MergeRecord) =>
      [...new Set([...merge.survivorFragmentIds, ...merge.absorbed.flatMap((part) => part.fragmentIds)])].map(recordName),
  },
};
