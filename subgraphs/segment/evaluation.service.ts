/**
 * Starting evaluation runs, following them, and the nightly schedule. A run is
 * queued for the worker (`evaluateSegments` job) and answered at once; the worker
 * updates its progress. Editors start runs; only admins change the schedule.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import type { EvaluationRunRecord, EvaluationRunsRepository } from './memberships/evaluationRuns.repository.js';
import type { SegmentsRepository } from './segments.repository.js';

/** Ids one call may name: as many as a sandbox may hold. */
export const MAX_SEGMENT_IDS_PER_RUN = 4000;

export interface EvaluationPorts {
  segments: SegmentsRepository;
  runs: EvaluationRunsRepository;
  /** Queues a run of these segments (null: all) for the worker; answers the stored run. */
  schedule(segmentIds: string[] | null): Promise<EvaluationRunRecord>;
  getSchedule(): Promise<string>;
  /** Stores a cron expression; throws a BAD_USER_INPUT DomainError for an invalid one. */
  setSchedule(cron: string): Promise<string>;
}

export class EvaluationService {
  constructor(
    private readonly ports: EvaluationPorts,
    private readonly deps: ServiceDeps,
  ) {}

  async evaluate(ids: readonly string[] | null | undefined): Promise<EvaluationRunRecord> {
    requireRole(this.deps.principal, 'editor');
    if (ids == null) return this.ports.schedule(null);
    const unique = [...new Set(ids)];
    if (unique.length === 0) throw badInput('ids must name at least one segment; omit it to evaluate every segment', { field: 'ids' });
    if (unique.length > MAX_SEGMENT_IDS_PER_RUN) {
      throw badInput(`ids may name at most ${MAX_SEGMENT_IDS_PER_RUN} segments (got ${unique.length})`, { field: 'ids' });
    }
    const found = new Set((await this.ports.segments.findRefs(unique)).map((ref) => ref.id));
    const missing = unique.find((id) => !found.has(id));
    if (missing !== undefined) throw notFound('Segment', missing);
    return this.ports.schedule(unique);
  }

  run(id: string): Promise<EvaluationRunRecord | null> {
    return this.ports.runs.findById(id);
  }

  schedule(): Promise<string> {
    return this.ports.getSchedule();
  }

  setSchedule(cron: string): Promise<string> {
    requireRole(this.deps.principal, 'admin');
    if (typeof cron !== 'string' || cron.trim() === '' || cron.length > 200) {
      throw badInput('cron must be a five-field cron expression in UTC, e.g. "0 2 * * *"', { field: 'cron' });
    }
    return this.ports.setSchedule(cron.trim());
  }
}
