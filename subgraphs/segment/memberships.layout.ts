/**
 * CONTRACT: how memberships are stored in each sandbox database, owned by the
 * segment subgraph (its memberships repository is their only writer). The batch
 * pipeline reads them for `inSegment`.
 *
 * One document per (segment, member): `_id` `<segmentId>:<memberId>`, `segmentId`,
 * `memberId`, `memberType` ('PERSON' | 'ACCOUNT'), `status`, `lastQualificationTime`.
 */
export const MEMBERSHIPS_COLLECTION = 'segmentMemberships';

export type MembershipStatus = 'realized' | 'existing' | 'exited';

/** Statuses that mean "in the segment now". */
export const CURRENT_STATUSES: readonly MembershipStatus[] = ['realized', 'existing'];
