import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryMember } from '../../subgraphs/destination/connectors/connector.js';
import { createConnector } from '../../subgraphs/destination/connectors/createConnector.js';
import { csvDocument, csvField } from '../../subgraphs/destination/connectors/files/csv.js';
import { nodeFileSystem, type FileSystem } from '../../subgraphs/destination/connectors/files/fileSystem.js';
import { batchOf, connectorDeps, fakeClock, person } from './support.js';

describe('CSV writing (RFC 4180)', () => {
  it('quotes fields with quotes, commas, CR or LF, doubling quotes, and leaves the rest alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(null)).toBe('');
    expect(csvField(42.5)).toBe('42.5');
    expect(csvField(false)).toBe('false');
    expect(csvField(' spaced ')).toBe(' spaced ');
  });

  it('round-trips through a standard parser, whatever the values hold', () => {
    const awkward = ['"', '""', ',', '\r\n', 'multi\nline, "quoted", text', 'naïve café 東京', '', ' lead ', '=1+1'];
    const text = csvDocument(['a', 'b'], awkward.map((value, i) => [value, i]));
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { columns: true }) as Array<{ a: string; b: string }>;
    expect(rows.map((row) => row.a)).toEqual(awkward);
  });
});

describe('files connector', () => {
  let directory: string;
  const clock = fakeClock();

  const connect = (config: Record<string, string | number>, fileSystem?: FileSystem) =>
    createConnector({ type: 'CLOUD_STORAGE', config: { directory, ...config }, credentials: null }, connectorDeps(clock, { fileSystem }));

  const members: DeliveryMember[] = [
    person('p1', 'ada@example.com', { attributes: { jobTitle: 'VP, "Growth"', score: 10 } }),
    person('p2', 'bob@example.com', { attributes: { jobTitle: 'CTO\nand founder', score: null }, consentMarketingEmail: 'n' }),
    person('p3', 'cy@example.com', { identities: { email: 'cy@example.com', ecid: 'E-3' }, attributes: { jobTitle: 'Eng', score: 3 } }),
    person('p4', 'di@example.com', { attributes: { jobTitle: 'Ops', score: 4 } }),
    person('p5', 'ed@example.com', { attributes: { jobTitle: 'Sales', score: 5 } }),
  ];
  const mapping = [
    { source: 'jobTitle', destination: 'title' },
    { source: 'score', destination: 'leadScore' },
  ];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'cdp-files-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes a full audience split at maxRowsPerFile, with identities, status and the consent column; a rerun overwrites', async () => {
    const connector = connect({ format: 'CSV', maxRowsPerFile: 2 });
    const batch = batchOf({ activationId: 'act_9', runId: 'run_7', options: { mode: 'FULL' }, mapping, adds: members, removes: [person('p0', 'gone@example.com')] });
    const outcome = await connector.deliver(batch);
    expect(outcome.counts).toEqual({ delivered: 5, removed: 1, failed: 0, excluded: 0 });
    const names = (await readdir(directory)).sort();
    expect(names).toEqual(['act_9.run_7.00000.0001.csv', 'act_9.run_7.00000.0002.csv', 'act_9.run_7.00000.0003.csv']);
    const rows = (
      await Promise.all(names.map(async (name) => parse(await readFile(join(directory, name), 'utf8'), { columns: true }) as Array<Record<string, string>>))
    ).flat();
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({
      memberId: 'p1',
      memberType: 'PERSON',
      status: 'PRESENT',
      consentMarketingEmail: 'y',
      'identity.email': 'ada@example.com',
      'identity.ecid': '',
      title: 'VP, "Growth"',
      leadScore: '10',
    });
    // Files keep people who refused marketing email, and say so.
    expect(rows[1]).toMatchObject({ memberId: 'p2', consentMarketingEmail: 'n', title: 'CTO\nand founder', leadScore: '' });
    expect(rows[2]).toMatchObject({ 'identity.ecid': 'E-3' });

    await connector.deliver(batch);
    expect((await readdir(directory)).sort()).toEqual(names);
  });

  it('writes incremental enter and exit rows as JSON Lines, and reads them back', async () => {
    const connector = connect({ format: 'JSON', maxRowsPerFile: 100 });
    await connector.deliver(batchOf({ runId: 'r2', sequence: 3, options: { mode: 'INCREMENTAL' }, mapping, adds: members.slice(0, 2), removes: members.slice(2, 3) }));
    const [name] = await readdir(directory);
    expect(name).toBe('act_1.r2.00003.0001.jsonl');
    const lines = (await readFile(join(directory, name!), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.memberId, line.status])).toEqual([
      ['p1', 'REALIZED'],
      ['p2', 'REALIZED'],
      ['p3', 'EXITED'],
    ]);
    expect(lines[0]).toEqual({
      memberId: 'p1',
      memberType: 'PERSON',
      status: 'REALIZED',
      consentMarketingEmail: 'y',
      identities: { email: 'ada@example.com', ecid: null },
      attributes: { title: 'VP, "Growth"', leadScore: 10 },
    });
    const read = [];
    for await (const member of connector.listMembers!({ activationId: 'act_1', runId: 'r2', memberType: 'PERSON', options: {} })) read.push(member);
    expect(read).toEqual([
      { key: 'p1', status: 'REALIZED' },
      { key: 'p2', status: 'REALIZED' },
      { key: 'p3', status: 'EXITED' },
    ]);
  });

  it('never shows a partial file: a write that fails before its rename leaves the old file whole and no temporary file', async () => {
    const connector = connect({ format: 'CSV', maxRowsPerFile: 10 });
    const batch = batchOf({ options: { mode: 'FULL' }, mapping, adds: members });
    await connector.deliver(batch);
    const [name] = await readdir(directory);
    const before = await readFile(join(directory, name!), 'utf8');

    let wroteTemporary = '';
    const crashing: FileSystem = {
      ...nodeFileSystem,
      open: async (path, flags, mode) => {
        const file = await nodeFileSystem.open(path, flags, mode);
        return {
          ...file,
          writeFile: async (data: string) => {
            wroteTemporary = path;
            // Half the content reaches the disk, then the process "dies".
            await file.writeFile(data.slice(0, data.length / 2));
            throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
          },
          sync: () => file.sync(),
          close: () => file.close(),
        };
      },
    };
    const changed = batchOf({ options: { mode: 'FULL' }, mapping, adds: members.slice(0, 1) });
    const outcome = await connect({ format: 'CSV', maxRowsPerFile: 10 }, crashing).deliver(changed);
    expect(outcome.results[0]).toMatchObject({ status: 'failed', code: 'FILE_ENOSPC', retryable: true });
    expect(wroteTemporary).not.toBe(join(directory, name!));
    expect(await readdir(directory)).toEqual([name]);
    expect(await readFile(join(directory, name!), 'utf8')).toBe(before);
  });

  it('writes through a temporary name in the same directory and renames it into place', async () => {
    const steps: string[] = [];
    const watching: FileSystem = {
      ...nodeFileSystem,
      open: async (path, flags, mode) => {
        steps.push(`open ${path.startsWith(directory) ? path.slice(directory.length + 1).replace(/[0-9a-f-]{36}/, 'UUID') : path} ${flags}`);
        return nodeFileSystem.open(path, flags, mode);
      },
      rename: async (from, to) => {
        steps.push(`rename -> ${to.slice(directory.length + 1)}`);
        return nodeFileSystem.rename(from, to);
      },
    };
    await connect({ format: 'CSV', maxRowsPerFile: 10 }, watching).deliver(batchOf({ options: { mode: 'FULL' }, adds: members.slice(0, 1) }));
    expect(steps).toEqual(['open .act_1.run_1.00000.0001.csv.UUID.tmp wx', 'rename -> act_1.run_1.00000.0001.csv']);
  });

  it('refuses buckets and bad config with messages that say what to fix, and tests the directory', async () => {
    expect(() => connect({ bucket: 's3://audiences' })).toThrow(expect.objectContaining({ code: 'BUCKET_NOT_SUPPORTED', retryable: false }));
    expect(() => connect({ format: 'XML' })).toThrow(/CSV or JSON/);
    expect(await connect({}).testConnection()).toEqual({ ok: true });
    const missing = createConnector({ type: 'CLOUD_STORAGE', config: { directory: join(directory, 'nope') }, credentials: null }, connectorDeps(clock));
    expect(await missing.testConnection()).toMatchObject({ ok: false, code: 'FILE_ENOENT' });
    await writeFile(join(directory, 'a-file'), 'x');
    const notDirectory = createConnector({ type: 'CLOUD_STORAGE', config: { directory: join(directory, 'a-file') }, credentials: null }, connectorDeps(clock));
    expect(await notDirectory.testConnection()).toMatchObject({ ok: false, code: 'FILE_ENOTDIR' });
  });
});
