/**
 * `npm run import -- --source <marketo|salesforce> --instance <id> --entity <entity>
 *                    [--crm-instance <orgId>] [--mapping mapping.json] <file.csv>`
 *
 * A client of a running platform: it reaches the gateway at GATEWAY_URL (default
 * the gateway `npm start` runs: http://localhost:<GATEWAY_PORT, 4000>/graphql) with
 * CDP_API_KEY as a bearer token, and says where; starts an import, streams the file
 * to it in chunks (never the whole file in memory), then follows the import job with
 * a progress bar on stderr until it ends, and reports rows written, written in part
 * and rejected, with the first bad rows and their reasons. Exits 0 when the import
 * succeeded, 1 when it failed, 2 on bad usage.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createGraphQLCall, GraphQLCallError, GraphQLUnreachableError } from '../../../../lib/graphqlClient.js';
import { gatewayTarget } from './gatewayTarget.js';
import { createProgressBar } from './progressBar.js';
import { BAD_ROWS_SHOWN, importReport, type BadRow } from './report.js';
import { uploadFile } from './upload.js';

const USAGE =
  'Usage: npm run import -- --source <marketo|salesforce> --instance <id> --entity <entity> [--crm-instance <orgId>] [--mapping <file.json>] <file.csv>\n' +
  '  e.g. npm run import -- --source salesforce --instance 00D5e000001XyZ --entity Contact contacts.csv\n' +
  '       npm run import -- --source marketo --instance 123-ABC-456 --entity leads --crm-instance 00D5e000001XyZ leads.csv\n' +
  'Environment: GATEWAY_URL (default http://localhost:<GATEWAY_PORT>/graphql, GATEWAY_PORT as for npm start, 4000), CDP_API_KEY (an editor key of the sandbox to import into).';

const POLL_MS = 500;

interface ImportState {
  id: string;
  status: 'UPLOADING' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  rowsTotal: number;
  rowsImported: number;
  rowsRejected: number;
  rowsPartial: number;
  failure: string | null;
}
const IMPORT_FIELDS = 'id status rowsTotal rowsImported rowsRejected rowsPartial failure';

class UsageError extends Error {}

function readOptions() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      instance: { type: 'string' },
      entity: { type: 'string' },
      'crm-instance': { type: 'string' },
      mapping: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const missing = (['source', 'instance', 'entity'] as const).filter((name) => !values[name]);
  if (missing.length > 0) throw new UsageError(`Missing ${missing.map((name) => `--${name}`).join(', ')}`);
  if (positionals.length !== 1) throw new UsageError('Name exactly one CSV file to import');
  return {
    source: values.source!,
    instance: values.instance!,
    entity: values.entity!,
    crmInstance: values['crm-instance'],
    mappingFile: values.mapping,
    file: positionals[0]!,
  };
}

async function main(): Promise<number> {
  const options = readOptions();
  const target = gatewayTarget(process.env);
  const gatewayUrl = target.url;
  process.stderr.write(`Sending to ${gatewayUrl} (from ${target.from})\n`);
  const apiKey = process.env.CDP_API_KEY || undefined;
  const call = createGraphQLCall(gatewayUrl, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  const fileSize = await stat(options.file).then(
    (info) => info.size,
    (error: NodeJS.ErrnoException) => {
      throw new UsageError(`Cannot read ${options.file}: ${error.code ?? error.message}`);
    },
  );
  const mapping = options.mappingFile ? (JSON.parse(await readFile(options.mappingFile, 'utf8')) as unknown) : undefined;

  const { startImport } = await call<{ startImport: ImportState }>(
    `mutation Start($input: StartImportInput!) { startImport(input: $input) { ${IMPORT_FIELDS} } }`,
    { input: { source: options.source, instance: options.instance, entity: options.entity, crmInstance: options.crmInstance, mapping } },
  );
  const importId = startImport.id;
  process.stderr.write(`Import ${importId}: ${options.source} ${options.entity} from ${options.file}\n`);
  const bar = createProgressBar(process.stderr);

  bar.start('uploading');
  const chunkCount = await uploadFile(call, importId, options.file, (bytesSent) => bar.update(bytesSent, fileSize, 'bytes', 'uploading'));
  if (chunkCount === 0) throw new UsageError(`${options.file} is empty`);
  bar.finish();

  let state = (
    await call<{ completeImportUpload: ImportState }>(`mutation Complete($id: ID!, $n: Int!) { completeImportUpload(importId: $id, chunkCount: $n) { ${IMPORT_FIELDS} } }`, {
      id: importId,
      n: chunkCount,
    })
  ).completeImportUpload;
  bar.start('importing');
  while (state.status !== 'SUCCEEDED' && state.status !== 'FAILED') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const { import: current } = await call<{ import: ImportState | null }>(`query Progress($id: ID!) { import(id: $id) { ${IMPORT_FIELDS} } }`, { id: importId });
    if (!current) throw new Error(`Import ${importId} has disappeared`);
    state = current;
    // Until the file's rows are counted (rowsTotal 0), the bar shows the rows done without a total.
    if (state.status === 'RUNNING') bar.update(state.rowsImported + state.rowsRejected, state.rowsTotal > 0 ? state.rowsTotal : null, 'rows', 'importing');
  }
  if (state.status === 'SUCCEEDED') bar.update(state.rowsTotal, state.rowsTotal, 'rows', 'importing');
  bar.finish();

  let badRows: BadRow[] = [];
  if (state.rowsRejected + state.rowsPartial > 0) {
    const { import: ended } = await call<{ import: { errors: BadRow[] } | null }>(
      `query Errors($id: ID!, $n: Int!) { import(id: $id) { errors(first: $n) { line code reason partial } } }`,
      { id: importId, n: BAD_ROWS_SHOWN },
    );
    badRows = ended?.errors ?? [];
  }
  process.stdout.write(importReport(state, badRows));
  if (state.status === 'FAILED') {
    process.stderr.write(`The import failed: ${state.failure ?? 'no reason given'}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof GraphQLUnreachableError) {
      process.stderr.write(`${error.message}; is the platform running? Set GATEWAY_PORT (as for npm start) or GATEWAY_URL to its /graphql address\n`);
    } else {
      process.stderr.write(`${error instanceof GraphQLCallError ? error.message : String((error as Error)?.stack ?? error)}\n`);
    }
    process.exit(1);
  },
);
