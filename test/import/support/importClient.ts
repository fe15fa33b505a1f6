/** Runs imports through the gateway the way the CLI does: start, upload chunks, complete, wait. */
import type { TestPlatform } from '../../support/platform.js';

export const IMPORT_FIELDS = 'id source instance entity status rowsTotal rowsImported rowsRejected failure createdAt finishedAt';

export interface ImportResult {
  id: string;
  status: string;
  rowsTotal: number;
  rowsImported: number;
  rowsRejected: number;
  failure: string | null;
}

export interface ImportSpec {
  source: string;
  instance: string;
  entity: string;
  crmInstance?: string;
  mapping?: Record<string, string>;
}

const ask = async (platform: TestPlatform, query: string, variables: Record<string, unknown>) => {
  const response = await platform.query(query, variables, { role: 'editor' });
  if (response.errors) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data;
};

export async function uploadImport(platform: TestPlatform, spec: ImportSpec, text: string, chunkChars = 64 * 1024): Promise<string> {
  const { startImport } = await ask(platform, `mutation($input: StartImportInput!) { startImport(input: $input) { id status } }`, { input: spec });
  const chunks = Array.from({ length: Math.max(1, Math.ceil(text.length / chunkChars)) }, (_, i) => text.slice(i * chunkChars, (i + 1) * chunkChars));
  for (const [index, content] of chunks.entries()) {
    await ask(platform, `mutation($id: ID!, $index: Int!, $content: String!) { uploadImportChunk(importId: $id, index: $index, content: $content) { id } }`, {
      id: startImport.id,
      index,
      content,
    });
  }
  await ask(platform, `mutation($id: ID!, $n: Int!) { completeImportUpload(importId: $id, chunkCount: $n) { id status } }`, { id: startImport.id, n: chunks.length });
  return startImport.id as string;
}

export async function waitForImport(platform: TestPlatform, id: string, timeoutMs = 60_000): Promise<ImportResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await ask(platform, `query($id: ID!) { import(id: $id) { ${IMPORT_FIELDS} } }`, { id });
    if (data.import.status === 'SUCCEEDED' || data.import.status === 'FAILED') return data.import;
    if (Date.now() > deadline) throw new Error(`Import ${id} still ${data.import.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function runImportThroughGateway(platform: TestPlatform, spec: ImportSpec, text: string, chunkChars?: number): Promise<ImportResult> {
  return waitForImport(platform, await uploadImport(platform, spec, text, chunkChars));
}

export async function importErrors(platform: TestPlatform, id: string): Promise<Array<{ line: number; code: string; reason: string }>> {
  const data = await ask(platform, `query($id: ID!) { import(id: $id) { errors(first: 1000) { line code reason } } }`, { id });
  return data.import.errors;
}
