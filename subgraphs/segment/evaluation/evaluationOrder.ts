/**
 * The order segments are evaluated in: a segment that uses `inSegment` comes after
 * the segments it uses, so it reads memberships already updated by the same run.
 * Segments outside the set being evaluated are read as they are.
 */
import { DomainError, ErrorCode } from '../../../lib/errors.js';

export interface OrderedNode {
  id: string;
  /** Segment ids this one uses with `inSegment`. */
  dependsOn: readonly string[];
}

/** A cycle among segments: create and update refuse one, so meeting it means stored data is wrong. */
export class SegmentCycleError extends DomainError {
  constructor(readonly cycle: readonly string[]) {
    super(ErrorCode.Conflict, `Segments depend on each other in a cycle (${cycle.join(' -> ')}); change one of them to evaluate them`, {
      details: { cycle: [...cycle] },
    });
  }
}

/**
 * Topological order (Kahn), stable: among segments that are ready together, the
 * input order is kept. Throws SegmentCycleError naming one cycle.
 */
export function evaluationOrder(nodes: readonly OrderedNode[]): string[] {
  const index = new Map(nodes.map((node, i) => [node.id, i]));
  const waitingOn = nodes.map((node) => new Set(node.dependsOn.filter((dep) => dep !== node.id && index.has(dep))).size);
  const usedBy = new Map<string, number[]>();
  nodes.forEach((node, i) => {
    for (const dep of new Set(node.dependsOn)) {
      if (dep === node.id) continue;
      if (index.has(dep)) usedBy.set(dep, [...(usedBy.get(dep) ?? []), i]);
    }
  });
  const selfLoop = nodes.find((node) => node.dependsOn.includes(node.id));
  if (selfLoop) throw new SegmentCycleError([selfLoop.id, selfLoop.id]);

  // A small binary heap would beat this on thousands of ready segments; a sorted array keeps it short.
  const ready = nodes.map((_, i) => i).filter((i) => waitingOn[i] === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(nodes[i]!.id);
    for (const user of usedBy.get(nodes[i]!.id) ?? []) {
      if (--waitingOn[user]! === 0) {
        const at = ready.findIndex((candidate) => candidate > user);
        ready.splice(at === -1 ? ready.length : at, 0, user);
      }
    }
  }
  if (order.length < nodes.length) throw new SegmentCycleError(findCycle(nodes, new Set(order)));
  return order;
}

/** One cycle among the nodes left unordered, e.g. ['a', 'b', 'a']. */
function findCycle(nodes: readonly OrderedNode[], ordered: ReadonlySet<string>): string[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const start = nodes.find((node) => !ordered.has(node.id))!;
  const path: string[] = [];
  const seen = new Map<string, number>();
  let current: OrderedNode = start;
  for (;;) {
    const at = seen.get(current.id);
    if (at !== undefined) return [...path.slice(at), current.id];
    seen.set(current.id, path.length);
    path.push(current.id);
    // Every unordered node waits on at least one unordered node, so this walk finds a cycle.
    const next = current.dependsOn.map((dep) => byId.get(dep)).find((dep) => dep !== undefined && !ordered.has(dep.id));
    if (!next) return [...path];
    current = next;
  }
}
