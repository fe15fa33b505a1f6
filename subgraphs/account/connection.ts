/** Relay connections over keyset pages: the cursor of an edge is its record's id (ids sort by creation). */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** `rows` holds up to `limit + 1` records: the extra one only tells that another page exists. */
export function connectionOf<T extends { id: string }>(rows: readonly T[], limit: number): Connection<T> {
  const page = rows.slice(0, limit);
  return {
    edges: page.map((node) => ({ cursor: node.id, node })),
    pageInfo: { hasNextPage: rows.length > limit, endCursor: page.at(-1)?.id ?? null },
  };
}
