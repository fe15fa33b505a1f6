/** What every benchmark writes: its document under bench/results/, with the machine and database it ran on. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MongoClient } from 'mongodb';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** The machine a result was measured on; numbers from different machines do not compare. */
export function machine(): { cpus: number; cpuModel: string | undefined; node: string } {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
}

/** Which MongoDB the benchmark ran on. */
export function mongoSetting(): string {
  return process.env.MONGODB_URI ? 'MONGODB_URI' : 'devdb (child process)';
}

/** Writes bench/results/<benchmark>.json and says where. */
export async function writeResults(benchmark: string, document: object): Promise<string> {
  const file = `${RESULTS_DIR}${benchmark}.json`;
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`Results written to ${file}`);
  return file;
}

/** Drops the benchmark's databases (every name starting with `prefix`). */
export async function dropBenchDatabases(client: MongoClient, prefix: string): Promise<void> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  await Promise.all(databases.filter((d) => d.name.startsWith(prefix)).map((d) => client.db(d.name).dropDatabase()));
}
