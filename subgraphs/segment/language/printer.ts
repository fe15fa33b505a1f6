/**
 * Canonical text of a tree: one space around operators, the fewest parentheses
 * precedence allows, strings escaped, dates as `date(y, m, d)` with time fields
 * only when set. parseSegment(printSegment(e)) equals e, spans aside.
 */
import type { Expr, Path, Scalar, TimeWindow } from './ast.js';
import { dateArguments } from './dates.js';
import { IDENTIFIER } from './grammar.js';

const OR = 1;
const AND = 2;
const UNARY = 3;

/** Canonical text: parseSegment(printSegment(e)) equals e, spans aside. */
export function printSegment(expr: Expr): string {
  return print(expr, 0);
}

function precedence(expr: Expr): number {
  if (expr.kind === 'or' && expr.operands.length > 1) return OR;
  if (expr.kind === 'and' && expr.operands.length > 1) return AND;
  return UNARY;
}

function print(expr: Expr, parent: number): string {
  if ((expr.kind === 'and' || expr.kind === 'or') && expr.operands.length === 1) return print(expr.operands[0], parent);
  const text = printBare(expr);
  return precedence(expr) < parent ? `(${text})` : text;
}

function printBare(expr: Expr): string {
  switch (expr.kind) {
    case 'or':
      if (expr.operands.length === 0) return 'false';
      return expr.operands.map((operand) => print(operand, OR)).join(' or ');
    case 'and':
      if (expr.operands.length === 0) return 'true';
      return expr.operands.map((operand) => print(operand, AND)).join(' and ');
    case 'not':
      return `not ${print(expr.operand, UNARY)}`;
    case 'compare':
      return `${printPath(expr.path)} ${expr.op} ${printScalar(expr.value)}`;
    case 'in':
      return `${printPath(expr.path)} ${expr.negated ? 'notIn' : 'in'} ${printList(expr.values)}`;
    case 'exists':
      return `exists(${printPath(expr.path)})`;
    case 'stringMatch':
      return `${printPath(expr.path)}.${expr.fn}(${printString(expr.value)}${expr.caseSensitive ? '' : ', false'})`;
    case 'matches':
      return `${printPath(expr.path)}.matches(${printString(expr.pattern)})`;
    case 'like':
      return `${printPath(expr.path)} like ${printString(expr.pattern)}`;
    case 'occurs':
      return `${printPath(expr.path)} occurs ${printWindow(expr.window)}`;
    case 'includes':
      return `${printPath(expr.path)}.includes(${printScalar(expr.value)})`;
    case 'intersects':
      return `${printPath(expr.path)}.intersects(${printList(expr.values)})`;
    case 'quantifier':
      return `${expr.relation}.${expr.quantifier}(${expr.condition ? print(expr.condition, 0) : ''})`;
    case 'count':
      return `${expr.relation}.count(${expr.condition ? print(expr.condition, 0) : ''}) ${expr.op} ${printNumber(expr.value)}`;
    case 'inSegment':
      return `inSegment(${printString(expr.segmentId)})`;
    case 'constant':
      return String(expr.value);
  }
}

export function printPath(path: Path): string {
  return path.map((segment, i) => (i === 0 || IDENTIFIER.test(segment) ? segment : printString(segment))).join('.');
}

function printWindow(window: TimeWindow): string {
  if (window.kind === 'between') return `between ${printScalar(window.from)} and ${printScalar(window.to)}`;
  const unit = window.amount === 1 ? window.unit.slice(0, -1) : window.unit;
  return `${window.op} ${printNumber(window.amount)} ${unit} before now`;
}

function printList(values: readonly Scalar[]): string {
  return `[${values.map(printScalar).join(', ')}]`;
}

export function printScalar(scalar: Scalar): string {
  switch (scalar.type) {
    case 'string':
      return printString(scalar.value);
    case 'number':
      return printNumber(scalar.value);
    case 'boolean':
      return String(scalar.value);
    case 'date':
      return `date(${dateArguments(scalar.value).join(', ')})`;
    case 'now':
      return 'now';
  }
}

function printNumber(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

const ESCAPED: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/** A string literal; control characters and lone surrogates as \uXXXX so the text stays printable and well formed. */
export function printString(value: string): string {
  return `"${value.replace(/["\\\n\t\r]|[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (char) =>
    ESCAPED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )}"`;
}
