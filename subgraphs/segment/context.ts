/** The segment subgraph's request context: services and loaders bound to the request's sandbox. */
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { createSegmentLoaders, type SegmentLoaders } from './loaders.js';
import { SegmentService } from './segment.service.js';
import { SegmentsRepository } from './segments.repository.js';

export interface SegmentContext extends SubgraphContextBase {
  readonly loaders: SegmentLoaders;
  readonly services: { readonly segments: SegmentService };
}

export function createSegmentContext(scope: RequestScope, deps: { ids: IdGenerator }): SegmentContext {
  const segments = new SegmentsRepository(scope.db);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createSegmentLoaders(segments),
    services: Object.freeze({ segments: new SegmentService(segments, serviceDeps(scope, deps.ids)) }),
  });
}
