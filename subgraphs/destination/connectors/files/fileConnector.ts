/**
 * Cloud storage: an audience as CSV or JSON Lines files in a directory, full
 * (every current member) or incremental (enter and exit rows), split at
 * `maxRowsPerFile`, each written atomically. Files carry the consent column
 * instead of leaving people out. S3-compatible buckets are refused with
 * BUCKET_NOT_SUPPORTED: no well-kept S3 client and local S3 test server could be
 * had for this project, and an untested bucket writer would be worse than none.
 */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../../../lib/subgraph/scalars.js';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Connector, DeliveryBatch, DeliveryOutcome, DestinationMember, ListMembersQuery } from '../connector.js';
import { ConnectorFailure } from '../../../../lib/connectors/failures.js';
import { isRecord } from '../../../../lib/connectors/http.js';
import { checkMappingShape, mappedFieldNames } from '../mapping.js';
import { chunk, entriesOf, OutcomeBuilder, type BatchEntry } from '../outcome.js';
import { writeFileAtomically } from './atomicWrite.js';
import { audienceFileName, filePrefix, renderFile, type AudienceRow, type FileFormat, type FileLayout, type FileMode } from './audienceFiles.js';
import { nodeFileSystem, type FileSystem } from './fileSystem.js';

export const DEFAULT_MAX_ROWS_PER_FILE = 100_000;

export interface FileConfig {
  directory: string;
  format: FileFormat;
  maxRowsPerFile: number;
  /** Identity namespaces written as columns. @default ['email', 'ecid'] (people), ['domain'] (accounts) */
  identityColumns?: readonly string[];
}

/** Errors a retry cannot fix: the directory is missing, read-only or not ours. */
const PERMANENT_FILE_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS']);

export function createFileConnector(config: FileConfig, fileSystem: FileSystem = nodeFileSystem): Connector {
  function modeOf(options: JsonObject): FileMode | undefined {
    const mode = options.mode ?? 'FULL';
    return mode === 'FULL' || mode === 'INCREMENTAL' ? mode : undefined;
  }

  async function deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    const out = new OutcomeBuilder(batch);
    const { adds, removes } = entriesOf(batch);
    const mode = modeOf(batch.options);
    if (!mode) {
      out.failedWith([...adds, ...removes], new ConnectorFailure('INVALID_OPTIONS', 'options.mode must be FULL or INCREMENTAL', false));
      return out.build();
    }
    const layout: FileLayout = {
      format: config.format,
      identityColumns: config.identityColumns ?? (batch.memberType === 'PERSON' ? ['email', 'ecid'] : ['domain']),
      fieldNames: mappedFieldNames(batch.mapping, [...batch.adds, ...batch.removes]),
      mapping: batch.mapping,
    };
    const rows: Array<{ entry: BatchEntry; row: AudienceRow }> = adds.map((entry) => ({
      entry,
      row: { member: entry.member, status: mode === 'FULL' ? 'PRESENT' : 'REALIZED' },
    }));
    if (mode === 'INCREMENTAL') rows.push(...removes.map((entry) => ({ entry, row: { member: entry.member, status: 'EXITED' as const } })));
    // A full file lists who is in; those who left are simply not in it.
    else removes.forEach((entry) => out.done(entry));

    for (const [index, part] of chunk(rows, config.maxRowsPerFile).entries()) {
      const name = audienceFileName(batch.activationId, batch.runId, batch.sequence ?? 0, index + 1, config.format);
      try {
        await writeFileAtomically(fileSystem, join(config.directory, name), renderFile(layout, part.map((item) => item.row)));
        part.forEach((item) => out.done(item.entry));
      } catch (error) {
        const code = isRecord(error) && typeof error.code === 'string' ? error.code : 'EIO';
        out.failedWith(part.map((item) => item.entry), new ConnectorFailure(`FILE_${code}`, `Could not write ${name} (${code})`, !PERMANENT_FILE_ERRORS.has(code)));
      }
    }
    return out.build();
  }

  async function* listMembers(query: ListMembersQuery): AsyncGenerator<DestinationMember> {
    if (!query.runId) throw new ConnectorFailure('INVALID_QUERY', 'Reading files back needs the run whose files to read', false);
    const prefix = filePrefix(query.activationId, query.runId);
    const names = (await fileSystem.readdir(config.directory)).filter((name) => name.startsWith(prefix)).sort();
    for (const name of names) {
      const text = await fileSystem.readFile(join(config.directory, name));
      const rows: unknown[] = name.endsWith('.csv')
        ? (parseCsv(text, { columns: true, skip_empty_lines: true }) as unknown[])
        : text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
      for (const row of rows) {
        if (isRecord(row) && typeof row.memberId === 'string') yield { key: row.memberId, status: typeof row.status === 'string' ? row.status : undefined };
      }
    }
  }

  return {
    type: 'CLOUD_STORAGE',
    maxBatchSize: config.maxRowsPerFile,
    async testConnection() {
      try {
        const stat = await fs.stat(config.directory);
        if (!stat.isDirectory()) return { ok: false, code: 'FILE_ENOTDIR', message: `${config.directory} is not a directory` };
        await fs.access(config.directory, constants.W_OK);
        return { ok: true };
      } catch (error) {
        const code = isRecord(error) && typeof error.code === 'string' ? error.code : 'EIO';
        return { ok: false, code: `FILE_${code}`, message: `The directory ${config.directory} cannot be written (${code})` };
      }
    },
    checkActivation(activation) {
      const problems = checkMappingShape(activation.mapping);
      if (!modeOf(activation.options)) problems.push('options.mode must be FULL or INCREMENTAL');
      return problems;
    },
    deliver,
    listMembers,
  };
}

/** The config of a CLOUD_STORAGE destination, or a permanent failure saying what to fix. */
export function parseFileConfig(config: JsonObject): FileConfig {
  if (config.bucket !== undefined) {
    throw new ConnectorFailure('BUCKET_NOT_SUPPORTED', 'S3-compatible buckets are not supported yet; set config.directory to a directory instead', false);
  }
  if (typeof config.directory !== 'string' || !config.directory.trim()) {
    throw new ConnectorFailure('INVALID_CONFIG', 'A CLOUD_STORAGE destination needs config.directory', false);
  }
  const format = config.format ?? 'CSV';
  if (format !== 'CSV' && format !== 'JSON') throw new ConnectorFailure('INVALID_CONFIG', 'config.format must be CSV or JSON', false);
  const maxRows = config.maxRowsPerFile ?? DEFAULT_MAX_ROWS_PER_FILE;
  if (typeof maxRows !== 'number' || !Number.isInteger(maxRows) || maxRows < 1) {
    throw new ConnectorFailure('INVALID_CONFIG', 'config.maxRowsPerFile must be a positive integer', false);
  }
  const identityColumns = Array.isArray(config.identityColumns) ? config.identityColumns.filter((name): name is string => typeof name === 'string') : undefined;
  return { directory: config.directory, format, maxRowsPerFile: maxRows, identityColumns };
}
