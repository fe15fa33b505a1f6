/**
 * `npm run compose [-- --out supergraph.graphql] [--config supergraph.yaml]`
 *
 * Composes the supergraph from supergraph.yaml (routing URLs overridden by the
 * *_URL environment variables, as the gateway does) and writes its SDL to
 * stdout or to a file. Exits 1 with every composition problem listed.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.js';
import { CompositionError, composeSupergraph } from './compose.js';
import { SupergraphConfigError } from './supergraphConfig.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', short: 'o' },
    config: { type: 'string', short: 'c' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write('Usage: npm run compose -- [--out <file>] [--config <supergraph.yaml>]\n');
  process.exit(0);
}

try {
  const config = loadConfig();
  const sdl = await composeSupergraph({ routingUrls: config.subgraphUrls, configPath: values.config });
  if (values.out) {
    await writeFile(values.out, sdl);
    process.stderr.write(`Supergraph written to ${values.out}\n`);
  } else {
    process.stdout.write(sdl.endsWith('\n') ? sdl : `${sdl}\n`);
  }
} catch (error) {
  if (error instanceof CompositionError || error instanceof SupergraphConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
