/**
 * Checks a tree against the data model: every path names a field of the scope it
 * is written in, every operator fits the field's type, relations and `inSegment`
 * are used where they mean something, and regular expressions compile. Errors
 * point at the path or the literal at fault and suggest the closest known name.
 */
import type { Expr, Path, Position, RelationName, Scalar } from './ast.js';
import type { CheckOptions } from './index.js';
import { languageError } from './errors.js';
import { PRIMARY_ACCOUNT_PLACE, RELATION_PLACES, SCOPES, TOP_SCOPE, fieldType, type FieldType, type Scope } from './fields.js';
import { isRelationName } from './grammar.js';
import { detailSpans } from './parser.js';
import { printPath } from './printer.js';
import { closestName } from './suggest.js';

/**
 * Checks a parsed (or generated) tree; throws SegmentLanguageError of kind 'type'.
 * Answers the segment ids used with `inSegment`, each once, in order of appearance.
 */
export function checkSegment(expr: Expr, options: CheckOptions): string[] {
  const checker = new Checker(options);
  checker.check(expr, SCOPES[TOP_SCOPE[options.target]]);
  return [...checker.dependsOn];
}

class Checker {
  readonly dependsOn = new Set<string>();

  constructor(private readonly options: CheckOptions) {}

  check(expr: Expr, scope: Scope): void {
    switch (expr.kind) {
      case 'and':
      case 'or':
        for (const operand of expr.operands) this.check(operand, scope);
        return;
      case 'not':
        return this.check(expr.operand, scope);
      case 'constant':
        return;
      case 'compare':
        return this.checkValue(expr, this.field(expr, expr.path, scope), expr.value, 0, expr.op);
      case 'in': {
        const type = this.field(expr, expr.path, scope);
        expr.values.forEach((value, i) => this.checkValue(expr, type, value, i, expr.negated ? 'notIn' : 'in'));
        return;
      }
      case 'exists':
        this.field(expr, expr.path, scope);
        return;
      case 'stringMatch':
      case 'like':
        return this.requireType(expr, expr.path, scope, 'string', expr.kind === 'like' ? 'like' : `.${expr.fn}(...)`);
      case 'matches':
        this.requireType(expr, expr.path, scope, 'string', '.matches(...)');
        try {
          new RegExp(expr.pattern);
        } catch (error) {
          throw languageError('type', argPosition(expr, 0), `invalid regular expression in .matches(...): ${(error as Error).message}`);
        }
        return;
      case 'occurs':
        this.requireType(expr, expr.path, scope, 'date', 'occurs');
        if (expr.window.kind === 'before' && !(expr.window.amount >= 0)) {
          throw languageError('type', argPosition(expr, 0), 'the amount of time in occurs must be zero or more');
        }
        return;
      case 'includes':
        return this.requireList(expr, scope, '.includes(...)');
      case 'intersects':
        return this.requireList(expr, scope, '.intersects(...)');
      case 'quantifier':
      case 'count': {
        const element = this.relation(expr, expr.relation, scope);
        if (expr.condition) this.check(expr.condition, element);
        if (expr.kind === 'count' && !(Number.isInteger(expr.value) && expr.value >= 0)) {
          throw languageError('type', argPosition(expr, 0), `a count is compared with a whole number of zero or more, not ${expr.value}`);
        }
        return;
      }
      case 'inSegment':
        return this.checkInSegment(expr, scope);
    }
  }

  private field(expr: Expr, path: Path, scope: Scope): FieldType {
    const at = pathPosition(expr);
    const first = path[0];
    if (isRelationName(first)) {
      if (!scope.relations[first]) throw relationError(first, scope, at);
      throw languageError('type', at, `\`${first}\` is a relation, not a field: use ${first}.any(...), ${first}.all(...), ${first}.none(...) or ${first}.count(...) >= n`);
    }
    const type = fieldType(scope, path);
    if (type) return type;
    const name = printPath(path);
    if (first === 'account' && !('account' in scope.fields)) {
      const own = fieldType(scope, path.slice(1)) ? path.slice(1).join('.') : undefined;
      throw languageError('type', at, `\`account.<field>\` cannot be used on ${scope.description}; it may be used ${PRIMARY_ACCOUNT_PLACE}${own ? `; did you mean \`${own}\`?` : ''}`, {
        suggestion: own,
      });
    }
    const parent = scope.fields[first];
    if (path.length > 1 && parent && parent !== 'object') {
      throw languageError('type', at, `\`${first}\` is a ${parent} and has no field \`${path.slice(1).join('.')}\``);
    }
    const suggestion = closestName(path.join('.'), Object.keys(scope.fields));
    throw languageError('type', at, `unknown field \`${name}\` on ${scope.description}${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`, {
      suggestion,
    });
  }

  private requireType(expr: Expr, path: Path, scope: Scope, wanted: 'string' | 'date', operator: string): void {
    const type = this.field(expr, path, scope);
    if (type === 'any' || type === wanted) return;
    throw languageError('type', pathPosition(expr), `${operator} applies to ${wanted === 'string' ? 'strings' : 'dates'}; \`${printPath(path)}\` is ${article(type)}`);
  }

  private requireList(expr: Expr & { path: Path }, scope: Scope, operator: string): void {
    const type = this.field(expr, expr.path, scope);
    if (type === 'any') return;
    throw languageError('type', pathPosition(expr), `${operator} applies to lists, such as custom attributes (attributes.<name>); \`${printPath(expr.path)}\` is ${article(type)}`);
  }

  private checkValue(expr: Expr, type: FieldType, value: Scalar, index: number, operator: string): void {
    if (type === 'any') return;
    const path = 'path' in expr ? printPath(expr.path) : '';
    if (type === 'object') {
      throw languageError('type', pathPosition(expr), `\`${path}\` is an object: compare one of its fields, or test exists(${path})`);
    }
    const valueType = value.type === 'now' ? 'date' : value.type;
    if (valueType !== type) {
      throw languageError('type', argPosition(expr, index), `\`${path}\` is ${article(type)}, so ${operator} needs ${article(type)} value, not ${article(valueType)}`);
    }
  }

  private relation(expr: Expr, relation: RelationName, scope: Scope): Scope {
    const element = scope.relations[relation];
    if (!element) throw relationError(relation, scope, expr.span?.start);
    return SCOPES[element];
  }

  private checkInSegment(expr: Expr & { kind: 'inSegment' }, scope: Scope): void {
    if (!scope.inSegment) {
      throw languageError('type', expr.span?.start, `inSegment(...) cannot be used on ${scope.description}; it may be used at the top level of a segment, or inside people conditions of an account segment`);
    }
    const target = this.options.segmentTarget?.(expr.segmentId);
    if (!target) throw languageError('type', argPosition(expr, 0), `unknown segment ${JSON.stringify(expr.segmentId)}`);
    if (target !== scope.inSegment) {
      throw languageError(
        'type',
        argPosition(expr, 0),
        `segment ${JSON.stringify(expr.segmentId)} is ${article(target)} segment; on ${scope.description} inSegment(...) needs ${article(scope.inSegment)} segment`,
      );
    }
    this.dependsOn.add(expr.segmentId);
  }
}

function relationError(relation: RelationName, scope: Scope, at: Position | undefined) {
  return languageError('type', at, `\`${relation}\` cannot be used on ${scope.description}; it may be used ${RELATION_PLACES[relation]}`);
}

function article(type: string): string {
  return `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type}`;
}

function pathPosition(expr: Expr): Position | undefined {
  return detailSpans.get(expr)?.path?.start ?? expr.span?.start;
}

function argPosition(expr: Expr, index: number): Position | undefined {
  return detailSpans.get(expr)?.args[index]?.start ?? expr.span?.start;
}
