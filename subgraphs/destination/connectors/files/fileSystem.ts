/**
 * The file operations the files connector uses, so a test can make one fail at
 * an exact step (a crash between write and rename) without touching the disk's
 * real behaviour.
 */
import { promises as fs } from 'node:fs';

export interface WritableFile {
  writeFile(data: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(path: string, flags: string, mode?: number): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
}

export const nodeFileSystem: FileSystem = {
  open: (path, flags, mode) => fs.open(path, flags, mode),
  rename: (from, to) => fs.rename(from, to),
  unlink: (path) => fs.unlink(path),
  readdir: (path) => fs.readdir(path),
  readFile: (path) => fs.readFile(path, 'utf8'),
};
