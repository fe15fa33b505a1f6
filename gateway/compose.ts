/**
 * Composes the supergraph in Node from supergraph.yaml with
 * @theguild/federation-composition (no rover binary). The gateway, the tests
 * and `npm run compose` all go through here.
 */
import { readFile } from 'node:fs/promises';
import { parse, type GraphQLError } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { SUBGRAPH_NAMES, type SubgraphName } from '../lib/config.js';
import { readSupergraphConfig } from './supergraphConfig.js';

export interface SubgraphSource {
  name: string;
  /** Where the gateway reaches the subgraph; written into the supergraph's join__graph. */
  url: string;
  typeDefs: string;
}

export interface CompositionProblem {
  /** The composition rule that failed, e.g. INVALID_GRAPHQL or FIELD_TYPE_MISMATCH. */
  code: string;
  message: string;
}

export class CompositionError extends Error {
  readonly code = 'COMPOSITION_FAILED';

  constructor(readonly problems: CompositionProblem[]) {
    super(`Supergraph composition failed:\n${problems.map((p) => `  - [${p.code}] ${p.message}`).join('\n')}`);
    this.name = 'CompositionError';
  }
}

export interface ComposeSupergraphOptions {
  /** Overrides supergraph.yaml's routing_url per subgraph (config, or ports chosen at start-up). */
  routingUrls?: Partial<Record<SubgraphName, string>>;
  /** Another supergraph.yaml; the repository's own by default. */
  configPath?: string;
  /** SDL to use instead of a subgraph's schema file (tests of composition failures). */
  schemas?: Partial<Record<SubgraphName, string>>;
}

/** Returns the supergraph SDL, or throws CompositionError listing every problem. */
export async function composeSupergraph(options: ComposeSupergraphOptions = {}): Promise<string> {
  const config = await readSupergraphConfig(options.configPath);
  const sources = await Promise.all(
    SUBGRAPH_NAMES.map(async (name): Promise<SubgraphSource> => {
      const entry = config.subgraphs[name];
      const typeDefs = options.schemas?.[name] ?? (await readSchemaFile(name, entry.schemaFile));
      return { name, url: options.routingUrls?.[name] ?? entry.routingUrl, typeDefs };
    }),
  );
  const problems = sources.flatMap((source) => checkFederationVersion(source, config.federationVersion));
  if (problems.length > 0) throw new CompositionError(problems);
  return composeSubgraphs(sources);
}

/** Composes already-loaded subgraph SDL; exported for tests and tools that hold SDL in memory. */
export function composeSubgraphs(sources: readonly SubgraphSource[]): string {
  const problems: CompositionProblem[] = [];
  const services = sources.flatMap((source) => {
    try {
      return [{ name: source.name, url: source.url, typeDefs: parse(source.typeDefs) }];
    } catch (error) {
      problems.push({ code: 'INVALID_GRAPHQL', message: `[${source.name}] ${(error as Error).message}` });
      return [];
    }
  });
  if (problems.length > 0) throw new CompositionError(problems);

  const result = composeServices(services);
  if (result.errors) throw new CompositionError(result.errors.map(toProblem));
  return result.supergraphSdl;
}

async function readSchemaFile(name: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CompositionError([
      { code: 'SCHEMA_FILE_UNREADABLE', message: `[${name}] cannot read ${path}: ${(error as Error).message}` },
    ]);
  }
}

/** A subgraph may not link a newer federation spec than the supergraph's federation_version. */
function checkFederationVersion(source: SubgraphSource, federationVersion: string): CompositionProblem[] {
  const linked = /specs\.apollo\.dev\/federation\/v(2)\.(\d+)/.exec(source.typeDefs);
  const wantedMinor = Number(federationVersion.split('.')[1]);
  if (linked && Number(linked[2]) > wantedMinor) {
    return [
      {
        code: 'UNSUPPORTED_FEDERATION_VERSION',
        message: `[${source.name}] links federation v2.${linked[2]}, newer than supergraph.yaml's federation_version ${federationVersion}`,
      },
    ];
  }
  return [];
}

function toProblem(error: GraphQLError): CompositionProblem {
  const code = error.extensions?.code;
  return { code: typeof code === 'string' ? code : 'COMPOSITION_ERROR', message: error.message };
}
