/** Per-request loaders of the segment subgraph. */
import type DataLoader from 'dataloader';
import { createByIdLoader } from '../../lib/subgraph/loaders.js';
import type { SegmentRecord, SegmentsRepository } from './segments.repository.js';

export interface SegmentLoaders {
  segmentById: DataLoader<string, SegmentRecord | null>;
}

export function createSegmentLoaders(segments: SegmentsRepository): SegmentLoaders {
  return {
    segmentById: createByIdLoader((ids) => segments.findByIds(ids), (segment) => segment.id),
  };
}
