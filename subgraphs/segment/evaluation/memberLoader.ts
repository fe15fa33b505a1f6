/**
 * CONTRACT (implemented with the pipeline back end): member documents built in
 * memory for the compiled predicate, preview samples and explain, with a bounded
 * number of queries for any number of ids (one `$in` per collection, not per member).
 */
import type { Db } from 'mongodb';
import type { Member, TargetEntity } from '../language/index.js';

/** Members in the order of `ids`; null for an id that is not a member of that target. */
export declare function loadMembers(db: Db, target: TargetEntity, ids: readonly string[]): Promise<Array<Member | null>>;
