/**
 * Reads and validates `supergraph.yaml` (rover's format). Every subgraph the
 * platform knows must be listed, with an http(s) `routing_url` and a
 * `schema.file`; schema files resolve against the YAML file's directory, as
 * rover resolves them.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { SUBGRAPH_NAMES, type SubgraphName } from '../lib/config.js';

/** The repository's own supergraph.yaml. */
export const DEFAULT_SUPERGRAPH_CONFIG_PATH = fileURLToPath(new URL('../supergraph.yaml', import.meta.url));

export interface SubgraphEntry {
  name: SubgraphName;
  routingUrl: string;
  /** Absolute path of the subgraph's SDL file. */
  schemaFile: string;
}

export interface SupergraphConfig {
  /** Exact version, without rover's `=` prefix, e.g. `2.9.0`. */
  federationVersion: string;
  subgraphs: Record<SubgraphName, SubgraphEntry>;
}

export class SupergraphConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`Invalid supergraph config ${path}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SupergraphConfigError';
  }
}

export async function readSupergraphConfig(path = DEFAULT_SUPERGRAPH_CONFIG_PATH): Promise<SupergraphConfig> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new SupergraphConfigError(path, [error instanceof Error ? error.message : String(error)]);
  }
  return parseSupergraphConfig(raw, path);
}

/** Validates an already-parsed document; `path` locates schema files and error messages. */
export function parseSupergraphConfig(raw: unknown, path: string): SupergraphConfig {
  const problems: string[] = [];
  const root = isRecord(raw) ? raw : {};
  if (!isRecord(raw)) problems.push('the file must be a YAML mapping');

  // Rover wants an exact version (`=2.9.0`); a range would make composition depend on the day.
  const versionRaw = String(root.federation_version ?? '');
  const version = /^=(2\.\d+\.\d+)$/.exec(versionRaw)?.[1];
  if (!version) problems.push(`federation_version must be an exact version such as "=2.9.0" (got ${JSON.stringify(versionRaw)})`);

  const listed = isRecord(root.subgraphs) ? root.subgraphs : {};
  if (!isRecord(root.subgraphs)) problems.push('subgraphs must be a mapping of subgraph name to its config');

  for (const name of Object.keys(listed)) {
    if (!(SUBGRAPH_NAMES as readonly string[]).includes(name)) {
      problems.push(`subgraphs.${name} is not a known subgraph (expected ${SUBGRAPH_NAMES.join(', ')})`);
    }
  }

  const baseDir = dirname(resolve(path));
  const subgraphs = {} as Record<SubgraphName, SubgraphEntry>;
  for (const name of SUBGRAPH_NAMES) {
    const entry = listed[name];
    if (!isRecord(entry)) {
      problems.push(`subgraphs.${name} is missing`);
      continue;
    }
    const routingUrl = typeof entry.routing_url === 'string' ? entry.routing_url : '';
    if (!isHttpUrl(routingUrl)) {
      problems.push(`subgraphs.${name}.routing_url must be an http(s) URL (got ${JSON.stringify(entry.routing_url)})`);
    }
    const file = isRecord(entry.schema) && typeof entry.schema.file === 'string' ? entry.schema.file : '';
    if (!file) problems.push(`subgraphs.${name}.schema.file must name the subgraph's SDL file`);
    subgraphs[name] = { name, routingUrl, schemaFile: resolve(baseDir, file) };
  }

  if (problems.length > 0) throw new SupergraphConfigError(path, problems);
  return { federationVersion: version!, subgraphs };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
