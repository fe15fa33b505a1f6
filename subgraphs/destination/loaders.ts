/** Per-request loaders of the destination subgraph. */
import type DataLoader from 'dataloader';
import { createByIdLoader, createGroupLoader } from '../../lib/subgraph/loaders.js';
import type { ActivationRecord } from './activations/activations.repository.js';
import type { DestinationRecord, DestinationsRepository } from './destinations.repository.js';

export interface DestinationLoaders {
  destinationById: DataLoader<string, DestinationRecord | null>;
  activationById: DataLoader<string, ActivationRecord | null>;
  /** `Segment.activations`: every activation of each segment, oldest first. */
  activationsBySegment: DataLoader<string, ActivationRecord[]>;
}

export function createDestinationLoaders(
  destinations: DestinationsRepository,
  activations: { findByIds(ids: readonly string[]): Promise<ActivationRecord[]>; listForSegments(ids: readonly string[]): Promise<ActivationRecord[]> },
): DestinationLoaders {
  return {
    destinationById: createByIdLoader((ids) => destinations.findByIds(ids), (destination) => destination.id),
    activationById: createByIdLoader((ids) => activations.findByIds(ids), (activation) => activation.id),
    activationsBySegment: createGroupLoader((ids) => activations.listForSegments(ids), (activation) => activation.segmentId),
  };
}
