/** Per-request loaders of the profile subgraph. */
import type DataLoader from 'dataloader';
import { createByIdLoader } from '../../lib/subgraph/loaders.js';
import type { PeopleRepository, PersonRecord } from './people.repository.js';

export interface ProfileLoaders {
  profileById: DataLoader<string, PersonRecord | null>;
}

export function createProfileLoaders(people: PeopleRepository): ProfileLoaders {
  return {
    profileById: createByIdLoader((ids) => people.findByIds(ids), (person) => person.id),
  };
}
