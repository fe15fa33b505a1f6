/** Reads a subgraph's SDL-first `schema.graphql`, next to the module that asks for it. */
import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';

export function loadTypeDefs(fileUrl: URL): DocumentNode {
  return parse(readFileSync(fileUrl, 'utf8'));
}
