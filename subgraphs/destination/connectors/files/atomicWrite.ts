/**
 * Writes a file so that a reader sees the old file or the whole new one, never
 * a part: the content goes to a hidden temporary name in the same directory (so
 * the rename stays on one file system), is flushed to disk, then renamed over
 * the final name, which POSIX makes atomic. The directory is flushed too, so
 * the rename survives a power loss. A failure removes the temporary file.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FileSystem } from './fileSystem.js';

export const TEMPORARY_SUFFIX = '.tmp';

export async function writeFileAtomically(files: FileSystem, path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}${TEMPORARY_SUFFIX}`);
  try {
    const handle = await files.open(temporary, 'wx', 0o640);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await files.rename(temporary, path);
  } catch (error) {
    await files.unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(directory: string): Promise<void> {
  // Not every platform can open a directory for fsync; the file itself is already safe.
  const handle = await fs.open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close();
}
