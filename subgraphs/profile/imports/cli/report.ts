/** What the import command prints when an import ends: its counts, and its first bad rows with their reasons. */

export interface EndedImport {
  id: string;
  status: string;
  rowsImported: number;
  rowsRejected: number;
  rowsPartial: number;
}

export interface BadRow {
  line: number;
  code: string;
  reason: string;
  partial: boolean;
}

/** Bad rows printed at the end; the rest are a query away. */
export const BAD_ROWS_SHOWN = 10;

export function importReport(state: EndedImport, badRows: readonly BadRow[]): string {
  const written = `${state.rowsImported} ${state.rowsImported === 1 ? 'row' : 'rows'} written`;
  const partly = state.rowsPartial > 0 ? ` (${state.rowsPartial} of them in part: a related record was rejected)` : '';
  const lines = [`Import ${state.id} ${state.status}: ${written}${partly}, ${state.rowsRejected} rejected`];
  if (badRows.length > 0) {
    lines.push(`First rows with problems (line, code, reason):`);
    for (const row of badRows) lines.push(`  line ${row.line} ${row.partial ? '[written in part] ' : ''}${row.code}: ${row.reason}`);
    const more = state.rowsRejected + state.rowsPartial - badRows.length;
    if (more > 0) {
      lines.push(`${more} more: query { import(id: "${state.id}") { errors(first: 100, after: ${badRows.at(-1)!.line}) { line code reason partial } } }`);
    }
  }
  return `${lines.join('\n')}\n`;
}
