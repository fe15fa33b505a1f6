/** Per-request loaders of the destination subgraph. */
import type DataLoader from 'dataloader';
import { createByIdLoader } from '../../lib/subgraph/loaders.js';
import type { DestinationRecord, DestinationsRepository } from './destinations.repository.js';

export interface DestinationLoaders {
  destinationById: DataLoader<string, DestinationRecord | null>;
}

export function createDestinationLoaders(destinations: DestinationsRepository): DestinationLoaders {
  return {
    destinationById: createByIdLoader((ids) => destinations.findByIds(ids), (destination) => destination.id),
  };
}
