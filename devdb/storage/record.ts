import type { Doc } from '../query/values.js';

/** One stored document. Index entries point at the record, so an update that keeps keys costs nothing. */
export interface Rec {
  doc: Doc;
  /** The document holds Long/Decimal128/Double objects and must be plained before mingo sees it. */
  wrapped: boolean;
  /** Insertion sequence number in its collection (natural order; tailable cursors resume from it). */
  seq: number;
  /** BSON size, tracked for capped collections only. */
  size: number;
}
