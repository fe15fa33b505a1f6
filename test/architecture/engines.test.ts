/**
 * A clean `npm ci` prints no EBADENGINE warnings: every installed package admits
 * the Node versions the project supports (package.json `engines`, tested in CI
 * on Node 20 and 24). A dependency update that drops one of them fails here
 * first; pin an older version with `overrides` in package.json, or change what
 * `engines` promises.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import semver from 'semver';

const SUPPORTED_NODE = ['20.19.0', '24.0.0'];

interface LockFile {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
}

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as LockFile;
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };

describe('Node engines', () => {
  it('package.json promises the versions CI runs', () => {
    for (const version of SUPPORTED_NODE) expect(semver.satisfies(version, manifest.engines.node), version).toBe(true);
  });

  it('every package in package-lock.json admits every supported Node version', () => {
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = !entry.engines || Array.isArray(entry.engines) ? undefined : entry.engines.node;
      if (path === '' || !range) continue;
      for (const version of SUPPORTED_NODE) {
        if (!semver.satisfies(version, range)) refusing.push(`${path}@${entry.version} wants node ${range}, not ${version}`);
      }
    }
    expect(refusing).toEqual([]);
  });
});
