/**
 * A change stream's pipeline run one event at a time without mingo's copy and projection
 * machinery, for the pipelines change streams are given in practice: `$match` stages and
 * `$project` stages that include fields (dotted paths) and compute some with field paths,
 * `$$REMOVE`, `$cond` and `$eq` of strings.
 *
 * A change stream runs its pipeline over every event it shows: with mingo, each `$project`
 * copied the whole event (post-image included) before projecting it, which cost devdb more than
 * the write that caused the event. Here a projection builds its output from the event's values,
 * which it never changes.
 *
 * MongoDB's semantics of an inclusion projection are kept: included fields in the order of the
 * input document, computed ones after them; a computed field under a parent the input lacks (or
 * holds as a scalar) creates the parent; a computed value that is missing (`$$REMOVE`, an absent
 * field) is left out. What this does not cover (any other
 * stage, operator or value, a path through an array, `$eq` of anything but strings) is left to
 * mingo: a pipeline at compile time, an event at run time.
 */
import { Query } from './mingoContext.js';
import { isPlainObject, type Doc } from './values.js';

/** An event this cannot run: the caller runs the whole pipeline over it with mingo. */
export class NotCovered extends Error {}

/** The pipeline over one event: the event it outputs, or null when a `$match` drops it. Throws NotCovered. */
export type ChangePipeline = (event: Doc) => Doc | null;

type Expression = (root: Doc) => unknown;

/** A node of a projection spec: included leaves, computed leaves and nested nodes, by field. */
interface ProjectionNode {
  included: Set<string>;
  computed: Map<string, Expression>;
  children: Map<string, ProjectionNode>;
  /** The children with fields to compute somewhere below them, found once the spec is read. */
  computingChildren: Array<[string, ProjectionNode]>;
}

const newNode = (): ProjectionNode => ({ included: new Set(), computed: new Map(), children: new Map(), computingChildren: [] });

/** Compiles the pipeline; null when some stage is not covered (mingo then runs it all). */
export function compileChangePipeline(pipeline: readonly Doc[]): ChangePipeline | null {
  const stages: ChangePipeline[] = [];
  for (const stage of pipeline) {
    const names = Object.keys(stage);
    if (names.length !== 1) return null;
    const spec = stage[names[0]!];
    if (names[0] === '$match' && isPlainObject(spec)) {
      const query = new Query(spec);
      stages.push((event) => (query.test(event) ? event : null));
    } else if (names[0] === '$project' && isPlainObject(spec)) {
      const project = compileProjection(spec);
      if (!project) return null;
      stages.push(project);
    } else {
      return null;
    }
  }
  return (event) => {
    let out: Doc | null = event;
    for (const stage of stages) {
      out = stage(out);
      if (out === null) return null;
    }
    return out;
  };
}

function compileProjection(spec: Doc): ChangePipeline | null {
  const root = newNode();
  let keepId = true;
  for (const [path, value] of Object.entries(spec)) {
    if (path === '_id' && (value === 0 || value === false)) {
      keepId = false;
      continue;
    }
    const fields = path.split('.');
    if (fields.some((field) => field === '' || field.startsWith('$'))) return null;
    let node = root;
    for (const field of fields.slice(0, -1)) {
      if (node.included.has(field) || node.computed.has(field)) return null;
      node = node.children.get(field) ?? node.children.set(field, newNode()).get(field)!;
    }
    const leaf = fields.at(-1)!;
    if (node.children.has(leaf) || node.included.has(leaf) || node.computed.has(leaf)) return null;
    // A number or boolean says include (or, false or zero, exclude: left to mingo); a field path or an operator computes.
    if (typeof value === 'number' || typeof value === 'boolean') {
      if (!value) return null;
      node.included.add(leaf);
    } else {
      const expression = (typeof value === 'string' && value.startsWith('$')) || isPlainObject(value) ? compileExpression(value) : null;
      if (!expression) return null;
      node.computed.set(leaf, expression);
    }
  }
  if (keepId && !root.computed.has('_id') && !root.children.has('_id')) root.included.add('_id');
  // Nothing included (`_id: 0` and computed fields only): left to mingo.
  if (!hasInclusions(root)) return null;
  findComputingChildren(root);
  return (event) => {
    const out: Doc = {};
    include(root, event, out);
    compute(root, event, out, event);
    return out;
  };
}

function hasInclusions(node: ProjectionNode): boolean {
  return node.included.size > 0 || [...node.children.values()].some(hasInclusions);
}

/** Copies the included fields of `input` into `out`, in input order. */
function include(node: ProjectionNode, input: Doc, out: Doc): void {
  for (const field of Object.keys(input)) {
    const value = input[field];
    if (value === undefined) continue;
    if (node.included.has(field)) out[field] = value;
    else {
      const child = node.children.get(field);
      if (!child) continue;
      if (Array.isArray(value)) throw new NotCovered();
      if (!isPlainObject(value)) continue; // a path through a scalar includes nothing
      // The sub-document stays even when none of its fields is included, as in MongoDB.
      const nested: Doc = {};
      include(child, value, nested);
      out[field] = nested;
    }
  }
}

/** Adds the computed fields of `node` to `out` (after its included ones), creating parents the input lacks. */
function compute(node: ProjectionNode, root: Doc, out: Doc, input: unknown): void {
  for (const [field, expression] of node.computed) {
    const value = expression(root);
    if (value === undefined) delete out[field];
    else out[field] = value;
  }
  for (const [field, child] of node.computingChildren) {
    const inputValue = isPlainObject(input) ? input[field] : undefined;
    if (Array.isArray(inputValue)) throw new NotCovered();
    let nested = out[field];
    if (!isPlainObject(nested)) {
      nested = {};
      out[field] = nested;
    }
    compute(child, root, nested as Doc, inputValue);
  }
}

/** Fills `computingChildren` through the tree; answers whether the node computes anything. */
function findComputingChildren(node: ProjectionNode): boolean {
  for (const entry of node.children) if (findComputingChildren(entry[1])) node.computingChildren.push(entry);
  return node.computed.size > 0 || node.computingChildren.length > 0;
}

/** Field paths, `$$REMOVE`, string, number, boolean and null literals, `$cond` and `$eq`; null for anything else. */
function compileExpression(expr: unknown): Expression | null {
  if (typeof expr === 'string') {
    if (expr === '$$REMOVE') return () => undefined;
    if (expr.startsWith('$$')) return null;
    if (expr.startsWith('$')) {
      const fields = expr.slice(1).split('.');
      return (root) => valueAt(root, fields);
    }
    return () => expr;
  }
  if (typeof expr === 'number' || typeof expr === 'boolean' || expr === null) return () => expr;
  if (!isPlainObject(expr)) return null;
  const names = Object.keys(expr);
  if (names.length !== 1) return null;
  const args = expr[names[0]!];
  if (names[0] === '$cond') {
    const [test, then, otherwise] = Array.isArray(args) ? args : isPlainObject(args) ? [args.if, args.then, args.else] : [];
    if (Array.isArray(args) && args.length !== 3) return null;
    const [t, a, b] = [compileExpression(test), compileExpression(then), compileExpression(otherwise)];
    if (!t || !a || !b) return null;
    return (root) => (isTrue(t(root)) ? a(root) : b(root));
  }
  if (names[0] === '$eq' && Array.isArray(args) && args.length === 2) {
    const [left, right] = [compileExpression(args[0]), compileExpression(args[1])];
    if (!left || !right) return null;
    return (root) => stringsEqual(left(root), right(root));
  }
  return null;
}

function valueAt(root: Doc, fields: readonly string[]): unknown {
  let value: unknown = root;
  for (const field of fields) {
    if (Array.isArray(value)) throw new NotCovered();
    if (!isPlainObject(value)) return undefined;
    value = value[field];
  }
  return value;
}

/** `$eq` where a side is a string: equal only to the same string (a value of another type never is). */
function stringsEqual(left: unknown, right: unknown): boolean {
  if (typeof left === 'string' || typeof right === 'string') return left === right;
  throw new NotCovered();
}

/** Aggregation truth: false, null, missing and zero are false. */
function isTrue(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value !== 'boolean' && typeof value !== 'string' && !isPlainObject(value) && !Array.isArray(value)) throw new NotCovered();
  return true;
}
