/**
 * Checking a segment expression against the data model and the sandbox's other
 * segments: the language does the parsing and typing; this module supplies the
 * targets of the segments named by `inSegment` (one query), turns language errors
 * into BAD_USER_INPUT errors that carry the position at the top of `extensions`,
 * and refuses `inSegment` cycles.
 */
import { badInput, DomainError, ErrorCode } from '../../lib/errors.js';
import {
  compileSegment,
  LIMITS,
  parseSegment,
  SegmentLanguageError,
  type CheckedSegment,
  type Expr,
} from './language/index.js';
import type { SegmentRef, SegmentsRepository, TargetEntity } from './segments.repository.js';

/** Trimmed expression text, or a BAD_USER_INPUT saying what to write. */
export function expressionText(value: string | null | undefined): string {
  if (value == null || value.trim() === '') {
    throw badInput('expression is required: write the condition in the segment language, e.g. jobTitle.contains("vp", false)', {
      field: 'expression',
    });
  }
  if (value.length > LIMITS.expressionLength) {
    throw badInput(`expression must be at most ${LIMITS.expressionLength} characters (got ${value.length})`, { field: 'expression' });
  }
  return value.trim();
}

/** The segment ids an expression names with `inSegment`, each once. */
export function inSegmentIds(expr: Expr, into: Set<string> = new Set()): Set<string> {
  switch (expr.kind) {
    case 'and':
    case 'or':
      for (const operand of expr.operands) inSegmentIds(operand, into);
      break;
    case 'not':
      inSegmentIds(expr.operand, into);
      break;
    case 'quantifier':
    case 'count':
      if (expr.condition) inSegmentIds(expr.condition, into);
      break;
    case 'inSegment':
      into.add(expr.segmentId);
      break;
    default:
      break;
  }
  return into;
}

/** A language error as the client sees it: the message, and where and what, at the top of `extensions`. */
export function expressionError(error: SegmentLanguageError): DomainError {
  return new DomainError(ErrorCode.BadUserInput, `expression: ${error.message}`, {
    extensions: {
      line: error.line,
      column: error.column,
      expected: [...error.expected],
      ...(error.suggestion ? { suggestion: error.suggestion } : {}),
    },
    details: { field: 'expression', kind: error.kind },
  });
}

function describe(ref: Pick<SegmentRef, 'id' | 'name'>): string {
  return `${ref.id} ("${ref.name}")`;
}

export interface CompiledExpression extends CheckedSegment {
  /** The segments the expression uses, by id. */
  used: ReadonlyMap<string, SegmentRef>;
}

export class ExpressionService {
  constructor(private readonly segments: SegmentsRepository) {}

  /** Parses and checks `text` for `target`; throws BAD_USER_INPUT with the error's position. */
  async compile(text: string, target: TargetEntity): Promise<CompiledExpression> {
    try {
      const ids = inSegmentIds(parseSegment(text));
      const used = new Map((await this.segments.findRefs([...ids])).map((ref) => [ref.id, ref]));
      const checked = compileSegment(text, { target, segmentTarget: (id) => used.get(id)?.targetEntity });
      return { ...checked, used };
    } catch (error) {
      if (error instanceof SegmentLanguageError) throw expressionError(error);
      throw error;
    }
  }

  /**
   * Refuses a definition of `segmentId` whose `inSegment` dependencies lead back
   * to it, naming the cycle. Follows `dependsOn` one level per query.
   */
  async refuseCycle(segment: Pick<SegmentRef, 'id' | 'name'>, compiled: CompiledExpression): Promise<void> {
    // How each reached segment was reached, to name the path once the cycle closes.
    const reachedFrom = new Map<string, string>();
    const refs = new Map<string, SegmentRef>(compiled.used);
    for (const id of compiled.dependsOn) reachedFrom.set(id, segment.id);
    let frontier = [...compiled.dependsOn];
    while (frontier.length > 0) {
      if (reachedFrom.has(segment.id)) break;
      const missing = frontier.filter((id) => !refs.has(id));
      for (const ref of await this.segments.findRefs(missing)) refs.set(ref.id, ref);
      const next: string[] = [];
      for (const id of frontier) {
        for (const dep of refs.get(id)?.dependsOn ?? []) {
          if (reachedFrom.has(dep)) continue;
          reachedFrom.set(dep, id);
          next.push(dep);
        }
      }
      frontier = next;
    }
    if (!reachedFrom.has(segment.id)) return;
    const path: Array<Pick<SegmentRef, 'id' | 'name'>> = [segment];
    for (let at = reachedFrom.get(segment.id); at !== undefined && at !== segment.id; at = reachedFrom.get(at)) {
      path.unshift(refs.get(at) ?? { id: at, name: at });
    }
    path.unshift(segment);
    const cycle = path.map(describe).join(' -> ');
    throw badInput(`expression: inSegment would make a cycle: ${cycle}. A segment cannot depend on itself, directly or through others`, {
      field: 'expression',
      cycle: path.map((ref) => ref.id),
    });
  }
}
