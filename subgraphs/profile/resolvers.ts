/** Thin resolvers: read arguments and context, call one loader or service function. */
import type { GraphQLResolverMap } from '../../lib/subgraph/server.js';
import { DateTimeScalar, JSONScalar } from '../../lib/subgraph/scalars.js';
import { AttributesScalar } from './attributesScalar.js';
import type { ProfileContext } from './context.js';
import type { EventInput, EventsArgs } from './event.service.js';
import type { MergeRecord } from './identityGraph.js';
import type { ImportRecord, StartImportInput } from './imports/index.js';
import type { MergePolicyInput, StoredMergePolicy } from './merge.service.js';
import { mergePolicyRunId, type MergePolicyRunRecord } from './mergePolicy/mergePolicyRuns.repository.js';
import type { PersonInput } from './personInput.js';
import { linkKeys, type ProfileRecord } from './profileView.js';
import type { CreateSourceInput, SourceRecord, SourceType, SyncMode, UpdateSourceInput } from './sources/index.js';

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
    mergePolicyRun: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.merges.mergePolicyRun(args.id),
    import: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.imports.get(args.id),
    imports: (_: unknown, args: { first?: number | null }, ctx: Ctx) => ctx.services.imports.list(args.first),
    source: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.sources.get(args.id),
    sources: (_: unknown, args: { type?: SourceType | null }, ctx: Ctx) => ctx.services.sources.list(args.type),
    sourceSync: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.sources.run(args.id),
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
    deleteImport: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.imports.deleteImport(args.id),
    createSource: (_: unknown, args: { input: CreateSourceInput }, ctx: Ctx) => ctx.services.sources.create(args.input),
    updateSource: (_: unknown, args: { id: string; input: UpdateSourceInput }, ctx: Ctx) => ctx.services.sources.update(args.id, args.input),
    deleteSource: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.sources.delete(args.id),
    testSource: (_: unknown, args: { id: string }, ctx: Ctx) => ctx.services.sources.test(args.id),
    syncSource: (_: unknown, args: { id: string; mode: SyncMode }, ctx: Ctx) => ctx.services.sources.sync(args.id, args.mode),
  },
  Profile: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => ctx.loaders.profileById.load(reference.id),
    events: (profile: ProfileRecord, args: EventsArgs, ctx: Ctx) => ctx.services.events.eventsOf(profile, args),
    merges: (profile: ProfileRecord, args: { first?: number | null }, ctx: Ctx) => ctx.services.profiles.merges(profile, args.first),
    mergeHistory: (profile: ProfileRecord, args: { first?: number | null; after?: string | null }, ctx: Ctx) =>
      ctx.services.profiles.mergeHistory(profile, args),
    linkKeys: (profile: ProfileRecord) => linkKeys(profile),
  },
  MergePolicy: {
    recompute: (policy: StoredMergePolicy, _: unknown, ctx: Ctx) =>
      policy.run ?? (policy.version > 0 ? ctx.services.merges.mergePolicyRun(mergePolicyRunId(policy.version)) : null),
  },
  MergePolicyRun: {
    kind: (run: MergePolicyRunRecord) => run.policy.kind,
    sourcePriority: (run: MergePolicyRunRecord) => run.policy.sourcePriority,
  },
  Import: {
    rowsPartial: (record: ImportRecord) => record.rowsPartial ?? 0,
    errors: (record: ImportRecord, args: { first?: number | null; after?: number | null }, ctx: Ctx) =>
      ctx.services.imports.errors(record.id, args.first, args.after),
  },
  Source: {
    lastSync: (source: SourceRecord, _: unknown, ctx: Ctx) => (source.lastRunId ? ctx.services.sources.run(source.lastRunId) : null),
    syncs: (source: SourceRecord, args: { first?: number | null }, ctx: Ctx) => ctx.services.sources.runsOf(source.id, args.first),
  },
  ProfileMerge: {
    absorbedProfileIds: (merge: MergeRecord) => merge.absorbed.map((part) => part.profileId),
    records: (merge: MergeRecord) =>
      [...new Set([...merge.absorbed.flatMap((part) => part.fragmentIds), merge.bridgingFragmentId])].map(recordName),
  },
};
