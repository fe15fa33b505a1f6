/**
 * The project's import graph and the layering rules it must keep (subgraphs/README.md):
 *
 * - `lib/` imports no part above it (devdb aside: it starts the embedded database);
 * - a subgraph imports another subgraph only through that subgraph's read-only view
 *   modules (`*.view.ts`);
 * - the gateway imports no subgraph;
 * - only tests import test code; `lib/fixtures/` (data factories) is a layer of its own above the
 *   product, which only tests and benchmarks import;
 * - no two folders import each other (each subgraph counts as its own folder).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface ImportEdge {
  /** Repository-relative paths, with forward slashes. */
  from: string;
  to: string;
}

export interface Violation {
  rule: string;
  from: string;
  to: string;
}

const SCANNED = ['lib', 'platform', 'subgraphs', 'gateway', 'jobs', 'devdb', 'bench', 'test'];
const SPECIFIER = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Every relative import between the project's TypeScript files. */
export function readImportGraph(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const top of SCANNED) {
    for (const file of typeScriptFiles(join(root, top))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(SPECIFIER)) {
        const specifier = match[1] ?? match[2] ?? match[3];
        if (!specifier?.startsWith('.')) continue;
        const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
        edges.push({ from: toRepoPath(root, file), to: toRepoPath(root, target) });
      }
    }
  }
  return edges;
}

function typeScriptFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (entry === 'node_modules' || entry.startsWith('.')) return [];
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return typeScriptFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function toRepoPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** The folder a file belongs to for the rules: its top-level folder, `subgraphs/<name>`, or `lib/fixtures`. */
export function folderOf(path: string): string {
  const [top, second] = path.split('/');
  if (top === 'subgraphs' && second && path.split('/').length > 2) return `subgraphs/${second}`;
  if (top === 'lib' && second === 'fixtures') return FIXTURES;
  return top!;
}

const FIXTURES = 'lib/fixtures';

const isSubgraph = (folder: string) => folder.startsWith('subgraphs/');
const isView = (path: string) => path.endsWith('.view.ts');
const ABOVE_LIB = new Set(['platform', 'gateway', 'jobs', 'bench', 'test']);

export function findViolations(edges: readonly ImportEdge[]): Violation[] {
  const violations: Violation[] = [];
  const crossing = edges.filter((edge) => folderOf(edge.from) !== folderOf(edge.to));
  for (const edge of crossing) {
    const rule = directionRule(folderOf(edge.from), folderOf(edge.to), edge.to);
    if (rule) violations.push({ rule, ...edge });
  }
  // Two folders importing each other, where neither direction is already wrong by itself
  // (lib importing a subgraph is reported once, as that, not again as a cycle with it).
  const explained = new Set(violations.map((v) => pairKey(folderOf(v.from), folderOf(v.to))));
  const directions = new Set(crossing.map((edge) => `${folderOf(edge.from)}>${folderOf(edge.to)}`));
  for (const edge of crossing) {
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (directions.has(`${to}>${from}`) && !explained.has(pairKey(from, to))) {
      violations.push({ rule: `${[from, to].sort().join(' and ')} import each other`, ...edge });
    }
  }
  return violations;
}

function pairKey(a: string, b: string): string {
  return [a, b].sort().join('|');
}

/** The rule an import from one folder into another breaks by its direction alone, if any. */
function directionRule(from: string, to: string, target: string): string | undefined {
  if (from === 'lib' && (ABOVE_LIB.has(to) || isSubgraph(to))) return 'lib imports a part above it';
  if (isSubgraph(from) && isSubgraph(to) && !isView(target)) return 'a subgraph imports another subgraph (other than its *.view.ts)';
  if (from === 'gateway' && isSubgraph(to)) return 'the gateway imports a subgraph';
  if (to === 'test') return from === 'bench' ? 'a benchmark imports test code' : 'product code imports test code';
  if (to === FIXTURES && from !== 'test' && from !== 'bench') return 'product code imports lib/fixtures';
  return undefined;
}
