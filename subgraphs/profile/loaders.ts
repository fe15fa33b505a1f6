/** Per-request loaders of the profile subgraph. */
import DataLoader from 'dataloader';
import { MAX_BATCH_SIZE } from '../../lib/subgraph/loaders.js';
import type { CurrentViews } from './currentViews.js';
import type { PeopleRepository } from './people.repository.js';
import type { ProfileRecord } from './profileView.js';

export interface ProfileLoaders {
  /** One query per batch, in key order; an id merged into another profile loads the survivor; under the current merge policy. */
  profileById: DataLoader<string, ProfileRecord | null>;
}

export function createProfileLoaders(people: PeopleRepository, views: CurrentViews): ProfileLoaders {
  return {
    profileById: new DataLoader<string, ProfileRecord | null>(
      async (ids) => {
        const byId = new Map<string, ProfileRecord>();
        for (const profile of await views.read(() => people.findByIds(ids))) {
          byId.set(profile.id, profile);
          for (const absorbed of profile.absorbedIds) if (!byId.has(absorbed)) byId.set(absorbed, profile);
        }
        return ids.map((id) => byId.get(id) ?? null);
      },
      { maxBatchSize: MAX_BATCH_SIZE },
    ),
  };
}
