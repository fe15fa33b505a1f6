/**
 * `npm run bench -- <name> [<name> ...]`: runs the named benchmarks (all when
 * none is named). Each prints a table and writes bench/results/<name>.json.
 * Benchmarks are not tests: they measure, and quote ratios against a baseline
 * measured in the same run, because this kind of machine is shared and noisy.
 */
const BENCHMARKS: Record<string, () => Promise<{ run: () => Promise<unknown> }>> = {
  abuse: () => import('./abuse.js'),
  activation: () => import('./activation.js'),
  devdb: () => import('./devdb.js'),
  gateway: () => import('./gateway.js'),
  ingest: () => import('./ingest.js'),
  live: () => import('./live.js'),
  mergePolicy: () => import('./mergePolicy.js'),
  segments: () => import('./segments.js'),
  sources: () => import('./sources.js'),
  streaming: () => import('./streaming.js'),
};

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const names = requested.length > 0 ? requested : Object.keys(BENCHMARKS);
const unknown = names.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
for (const name of names) {
  console.log(`\n== bench: ${name}`);
  const module = await BENCHMARKS[name]!();
  await module.run();
}
process.exit(0);
