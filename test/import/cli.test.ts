/** The import command line against a running platform, as a user runs it. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { MARKETO_LEAD_COLUMNS, MUNCHKIN, ORG, SALESFORCE_CONTACT_COLUMNS, csvLine, csvText, marketoLead, salesforceContact } from '../../lib/fixtures/exportFiles.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let platform: TestPlatform;
let dir: string;

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true });
  dir = await mkdtemp(join(tmpdir(), 'cdp-import-cli-'));
});
afterAll(async () => {
  await platform?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'subgraphs/profile/imports/cli/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each test starts the command (a Node process loading TypeScript) up to four times: slow on a busy machine.
describe('npm run import', { timeout: 120_000 }, () => {
  it('uploads a file, shows progress, waits for the job and reports rejected rows', async () => {
    const rows = Array.from({ length: 300 }, (_, n) => marketoLead(n));
    rows[10] = marketoLead(10, { email: 'broken@' });
    // A file larger than one upload chunk, so it travels in several.
    const padding = { title: 'x'.repeat(500) };
    const file = join(dir, 'leads.csv');
    await writeFile(file, csvText(MARKETO_LEAD_COLUMNS, rows.map((row) => ({ ...row, ...padding }))));
    const env = { GATEWAY_URL: platform.gatewayUrl, CDP_API_KEY: await platform.keyFor('default', 'editor') };

    const result = await runCli(['--source', 'marketo', '--instance', MUNCHKIN, '--entity', 'leads', file], env);
    expect(result.stderr).toMatch(/uploading +\[#+\] 100\.0%/);
    expect(result.stderr).toMatch(/importing +\[#+\] 100\.0% +300\/300 rows +[\d,]+ rows\/s/);
    expect(result.stderr).toContain(`Sending to ${platform.gatewayUrl} (from GATEWAY_URL)`);
    expect(result.stdout).toMatch(/Import imp_\w+ SUCCEEDED: 299 rows written, 1 rejected/);
    expect(result.stdout).toMatch(/line 12 BAD_USER_INPUT: workEmail \(column email\): "broken@" is not a valid email address/);
    expect(result.code).toBe(0);
    const lead = await platform.query(`{ profileByIdentity(namespace: "b2b_person", value: "1299@${MUNCHKIN}.Marketo") { workEmail } }`);
    expect(lead.data.profileByIdentity).toEqual({ workEmail: 'lead299@example8.com' });
  });

  it('reaches the gateway on GATEWAY_PORT, and reports rows written in part apart from rejected rows', async () => {
    // Contacts of accounts never imported: each person is written, its account link is not.
    const rows = Array.from({ length: 6 }, (_, n) => salesforceContact(n, 900 + n));
    rows[2] = salesforceContact(2, 902, { Email: 'not-an-email' });
    const file = join(dir, 'contacts.csv');
    await writeFile(file, csvText(SALESFORCE_CONTACT_COLUMNS, rows));
    const port = new URL(platform.gatewayUrl).port;
    const result = await runCli(['--source', 'salesforce', '--instance', ORG, '--entity', 'Contact', file], {
      GATEWAY_URL: '',
      GATEWAY_PORT: port,
      CDP_API_KEY: await platform.keyFor('default', 'editor'),
    });
    expect(result.stderr).toContain(`Sending to http://localhost:${port}/graphql (from GATEWAY_PORT)`);
    expect(result.stdout).toMatch(/SUCCEEDED: 5 rows written \(5 of them in part: a related record was rejected\), 1 rejected/);
    expect(result.stdout).toMatch(/line 4 BAD_USER_INPUT: /);
    expect(result.stdout).toMatch(/line 2 \[written in part\] NOT_FOUND: the row's main record was kept, but its account link was rejected/);
    expect(result.code).toBe(0);
  });

  it('exits non-zero with the reason when the import fails or the request is refused', async () => {
    const env = { GATEWAY_URL: platform.gatewayUrl, CDP_API_KEY: await platform.keyFor('default', 'editor') };
    const file = join(dir, 'no-id.csv');
    await writeFile(file, `email\n${csvLine(['email'], { email: 'a@b.example' })}\n`);
    const failed = await runCli(['--source', 'marketo', '--instance', MUNCHKIN, '--entity', 'leads', file], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAILED/);
    expect(failed.stderr).toMatch(/The import failed: The file's header has no column for id/);

    const refused = await runCli(['--source', 'marketo', '--instance', 'nope', '--entity', 'leads', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/BAD_USER_INPUT: instance "nope" is not a Marketo instance id/);

    const viewer = await runCli(['--source', 'marketo', '--instance', MUNCHKIN, '--entity', 'leads', file], {
      ...env,
      CDP_API_KEY: await platform.keyFor('default', 'viewer'),
    });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/FORBIDDEN/);

    const usage = await runCli(['--source', 'marketo', file], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Missing --instance, --entity/);
  });
});
