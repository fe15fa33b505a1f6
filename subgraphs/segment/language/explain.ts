/**
 * Why a member is in or out: the tree with each node's value and what decided it.
 * Explain runs once per request, so it walks the tree; every leaf and relation
 * condition is evaluated by the same compiled tests as the predicate, so the
 * root's value is the predicate's answer.
 */
import type { Expr, TargetEntity } from './ast.js';
import type { ExplainNode } from './index.js';
import type { Member } from './member.js';
import { asScope, compileTest, compileValueTest, countComparison, relationElements } from './predicate.js';
import { printSegment } from './printer.js';
import { compileReader, type Scope } from './values.js';

const MAX_IDS = 50;

export function explainMember(expr: Expr, target: TargetEntity, member: Member, now: Date): ExplainNode {
  return explain(expr, member as unknown as Scope, now.getTime(), target === 'PERSON');
}

/** `onPerson`: the scope is a person at the top level, where `account.<field>` reads the primary account. */
function explain(expr: Expr, scope: Scope, now: number, onPerson: boolean): ExplainNode {
  const condition = printSegment(expr);
  switch (expr.kind) {
    case 'and':
    case 'or': {
      const children = expr.operands.map((operand) => explain(operand, scope, now, onPerson));
      const value = expr.kind === 'and' ? children.every((c) => c.value) : children.some((c) => c.value);
      return { condition, value, children };
    }
    case 'not': {
      const child = explain(expr.operand, scope, now, onPerson);
      return { condition, value: !child.value, children: [child] };
    }
    case 'constant':
      return { condition, value: expr.value, children: [] };
    case 'inSegment': {
      const segments = Array.isArray(scope.segments) ? (scope.segments as unknown[]) : [];
      return { condition, value: compileTest(expr)(scope, now), evidence: { actual: segments }, children: [] };
    }
    case 'quantifier':
    case 'count': {
      const elements = relationElements(scope, expr.relation);
      const test = expr.condition ? compileTest(expr.condition) : () => true;
      const matchingIds: string[] = [];
      let count = 0;
      for (const item of elements) {
        const element = asScope(item);
        if (!test(element, now)) continue;
        count++;
        if (matchingIds.length < MAX_IDS && typeof element.id === 'string') matchingIds.push(element.id);
      }
      const value =
        expr.kind === 'count'
          ? countComparison(expr.op, expr.value)(count)
          : expr.quantifier === 'any'
            ? count > 0
            : expr.quantifier === 'none'
              ? count === 0
              : count === elements.length;
      return { condition, value, evidence: { count, matchingIds }, children: [] };
    }
    default: {
      const actual = compileReader(expr.path)(scope);
      const test = compileValueTest(expr);
      const value = test ? test(actual, now) : false;
      const evidence: ExplainNode['evidence'] = { actual: actual ?? null };
      if (onPerson && expr.path[0] === 'account' && expr.path.length > 1) {
        const account = scope.account;
        const id = account && typeof account === 'object' ? (account as Scope).id : undefined;
        evidence.recordId = typeof id === 'string' ? id : null;
      }
      return { condition, value, evidence, children: [] };
    }
  }
}
