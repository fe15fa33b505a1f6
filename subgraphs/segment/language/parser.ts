/**
 * Recursive descent from tokens to the syntax tree. Precedence: `not` over `and`
 * over `or`; same-kind `and`/`or` chains become one n-ary node, so printing and
 * parsing again gives the same tree. Nesting is counted while descending, so a
 * deeply nested text fails with a limit error long before the stack could overflow.
 */
import type { ComparisonOperator, Expr, Position, Scalar, Span, TimeWindow } from './ast.js';
import { languageError } from './errors.js';
import { COMPARISON_OPERATORS, METHODS, RELATIONS, UNITS, WINDOW_OPERATORS, isRelationName } from './grammar.js';
import { tokenize, type Token } from './lexer.js';
import { spanOf, TokenStream } from './tokenStream.js';
import { LIMITS } from './limits.js';
import { parseDateArguments } from './dates.js';
import { closestName } from './suggest.js';

/** Where a node's path and literal arguments were written, for errors the checker reports later. */
export interface DetailSpans {
  path?: Span;
  args: Span[];
}
export const detailSpans = new WeakMap<Expr, DetailSpans>();

/** Parses `text` into a tree; throws SegmentLanguageError (kind 'syntax' or 'limit'). */
export function parseSegment(text: string): Expr {
  if (text.length > LIMITS.expressionLength) {
    throw languageError(
      'limit',
      undefined,
      `the expression is ${text.length.toLocaleString('en-US')} characters long; the limit is ${LIMITS.expressionLength.toLocaleString('en-US')} characters`,
    );
  }
  return new Parser(tokenize(text)).parseDocument();
}

class Parser extends TokenStream {
  parseDocument(): Expr {
    const expr = this.parseOr();
    this.expectEnd();
    return expr;
  }

  // ---- boolean structure -------------------------------------------------

  private parseOr(): Expr {
    const start = this.token.start;
    const operands = [this.parseAnd()];
    while (this.acceptKeyword('or')) operands.push(this.parseAnd());
    if (operands.length === 1) return operands[0];
    return { kind: 'or', operands: operands.flatMap((e) => (e.kind === 'or' ? e.operands : [e])), span: this.span(start) };
  }

  private parseAnd(): Expr {
    const start = this.token.start;
    const operands = [this.parseUnary()];
    while (this.acceptKeyword('and')) operands.push(this.parseUnary());
    if (operands.length === 1) return operands[0];
    return { kind: 'and', operands: operands.flatMap((e) => (e.kind === 'and' ? e.operands : [e])), span: this.span(start) };
  }

  private parseUnary(): Expr {
    const start = this.token;
    if (!this.acceptKeyword('not')) return this.parsePrimary();
    this.enter(start);
    const operand = this.parseUnary();
    this.leave();
    return { kind: 'not', operand, span: this.span(start.start) };
  }

  private parsePrimary(): Expr {
    const start = this.token;
    if (this.acceptPunct('(')) {
      this.enter(start);
      const inner = this.parseOr();
      this.expectPunct(')');
      this.leave();
      return inner;
    }
    if (this.isKeyword('true') || this.isKeyword('false')) {
      this.next();
      return { kind: 'constant', value: start.text === 'true', span: this.span(start.start) };
    }
    const callsFunction = this.tokens[this.index + 1]?.kind === 'punct' && this.tokens[this.index + 1].text === '(';
    if (this.isKeyword('exists') && callsFunction) {
      this.next();
      this.next();
      const pathStart = this.token.start;
      if (this.token.kind !== 'ident') {
        this.note('a field path');
        throw this.unexpected();
      }
      const path = this.parsePathSegments().path;
      const pathSpan = this.span(pathStart);
      this.expectPunct(')');
      return this.withDetails({ kind: 'exists', path, span: this.span(start.start) }, [], pathSpan);
    }
    if (this.isKeyword('inSegment') && callsFunction) {
      this.next();
      this.next();
      const id = this.expectKind('string', 'a segment id string');
      this.expectPunct(')');
      return this.withDetails({ kind: 'inSegment', segmentId: id.text, span: this.span(start.start) }, [spanOf(id)]);
    }
    if (this.token.kind === 'ident') return this.parsePathCondition();
    this.note('a field path');
    throw this.unexpected();
  }

  private withDetails<T extends Expr>(node: T, args: Span[], path?: Span): T {
    detailSpans.set(node, { args, path });
    return node;
  }

  // ---- conditions on a path ----------------------------------------------

  /** Reads `a.b."c d"` up to a method call (`.name(`) if there is one. */
  private parsePathSegments(): { path: string[]; method?: Token } {
    const path = [this.next().text];
    while (this.acceptPunct('.')) {
      const token = this.token;
      if (token.kind === 'string') {
        path.push(this.next().text);
        continue;
      }
      if (token.kind !== 'ident') {
        this.note('a field name');
        this.note('a method');
        throw this.unexpected();
      }
      const following = this.tokens[this.index + 1];
      if (following.kind === 'punct' && following.text === '(') {
        this.next();
        this.next();
        return { path, method: token };
      }
      path.push(this.next().text);
    }
    return { path };
  }

  private parsePathCondition(): Expr {
    const start = this.token.start;
    const { path, method } = this.parsePathSegments();
    if (method) return this.parseMethod(path, method, start);
    const operator = this.acceptComparison();
    if (operator) {
      const value = this.parseScalar();
      return this.withDetails({ kind: 'compare', path, op: operator.op, value: value.scalar, span: this.span(start) }, [value.span]);
    }
    if (this.isKeyword('in') || this.isKeyword('notIn')) {
      const negated = this.next().text === 'notIn';
      const list = this.parseList();
      return this.withDetails({ kind: 'in', path, negated, values: list.values, span: this.span(start) }, list.spans);
    }
    if (this.acceptKeyword('like')) {
      const pattern = this.expectKind('string', 'a string');
      return this.withDetails({ kind: 'like', path, pattern: pattern.text, span: this.span(start) }, [spanOf(pattern)]);
    }
    if (this.acceptKeyword('occurs')) {
      const { window, args } = this.parseWindow();
      return this.withDetails({ kind: 'occurs', path, window, span: this.span(start) }, args);
    }
    throw this.unexpected();
  }

  private acceptComparison(): { op: ComparisonOperator; token: Token } | undefined {
    for (const op of COMPARISON_OPERATORS) {
      if (this.isPunct(op)) return { op, token: this.next() };
    }
    return undefined;
  }

  private parseMethod(path: string[], method: Token, start: Position): Expr {
    const name = method.text;
    if (name === 'any' || name === 'all' || name === 'none' || name === 'count') return this.parseRelationCall(path, method, start);
    if (name === 'contains' || name === 'startsWith' || name === 'endsWith') {
      const value = this.expectKind('string', 'a string');
      let caseSensitive = true;
      const args = [spanOf(value)];
      if (this.acceptPunct(',')) {
        if (!this.isKeyword('true') && !this.isKeyword('false')) throw this.unexpected();
        const flag = this.next();
        caseSensitive = flag.text === 'true';
        args.push(spanOf(flag));
      }
      this.expectPunct(')');
      return this.withDetails({ kind: 'stringMatch', path, fn: name, value: value.text, caseSensitive, span: this.span(start) }, args);
    }
    if (name === 'matches') {
      const pattern = this.expectKind('string', 'a string');
      this.expectPunct(')');
      return this.withDetails({ kind: 'matches', path, pattern: pattern.text, span: this.span(start) }, [spanOf(pattern)]);
    }
    if (name === 'includes') {
      const value = this.parseScalar();
      this.expectPunct(')');
      return this.withDetails({ kind: 'includes', path, value: value.scalar, span: this.span(start) }, [value.span]);
    }
    if (name === 'intersects') {
      const list = this.parseList();
      this.expectPunct(')');
      return this.withDetails({ kind: 'intersects', path, values: list.values, span: this.span(start) }, list.spans);
    }
    const suggestion = closestName(name, METHODS);
    throw languageError('syntax', method.start, `unknown method .${name}(...)${suggestion ? `; did you mean .${suggestion}(...)?` : ''}`, {
      expected: METHODS.map((m) => JSON.stringify(m)),
      suggestion,
    });
  }

  private parseRelationCall(path: string[], method: Token, start: Position): Expr {
    const relation = path.join('.');
    if (path.length !== 1 || !isRelationName(relation)) {
      const suggestion = closestName(relation, RELATIONS);
      throw languageError(
        'syntax',
        start,
        `.${method.text}(...) applies to a relation (${RELATIONS.join(', ')}); \`${relation}\` is not one${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
        { expected: RELATIONS.map((r) => JSON.stringify(r)), suggestion },
      );
    }
    this.enter(method);
    const condition = this.isPunct(')') ? null : this.parseOr();
    this.expectPunct(')');
    this.leave();
    if (method.text !== 'count') {
      const quantifier = method.text as 'any' | 'all' | 'none';
      return { kind: 'quantifier', relation, quantifier, condition, span: this.span(start) };
    }
    const operator = this.acceptComparison();
    if (!operator) throw this.unexpected();
    const value = this.expectKind('number', 'a number');
    return this.withDetails({ kind: 'count', relation, condition, op: operator.op, value: value.value, span: this.span(start) }, [spanOf(value)]);
  }

  private parseWindow(): { window: TimeWindow; args: Span[] } {
    if (this.acceptKeyword('between')) {
      const from = this.parseTimePoint();
      this.expectKeyword('and');
      const to = this.parseTimePoint();
      return { window: { kind: 'between', from: from.scalar, to: to.scalar }, args: [from.span, to.span] };
    }
    const op = WINDOW_OPERATORS.find((candidate) => this.isPunct(candidate));
    if (!op) throw this.unexpected();
    this.next();
    const amount = this.expectKind('number', 'a number');
    const unitToken = this.token;
    const unit = unitToken.kind === 'ident' ? UNITS[unitToken.text] : undefined;
    if (!unit) {
      for (const name of Object.values(UNITS)) this.note(JSON.stringify(name));
      throw this.unexpected();
    }
    this.next();
    this.expectKeyword('before');
    this.expectKeyword('now');
    return { window: { kind: 'before', op, amount: amount.value, unit }, args: [spanOf(amount)] };
  }

  // ---- literals -------------------------------------------------------------

  private parseTimePoint(): { scalar: Scalar; span: Span } {
    if (this.isKeyword('date') || this.isKeyword('now')) return this.parseScalar();
    throw this.unexpected();
  }

  private parseScalar(): { scalar: Scalar; span: Span } {
    const token = this.token;
    if (token.kind === 'string') {
      this.next();
      return { scalar: { type: 'string', value: token.text }, span: spanOf(token) };
    }
    if (token.kind === 'number') {
      this.next();
      return { scalar: { type: 'number', value: token.value }, span: spanOf(token) };
    }
    if (this.isKeyword('true') || this.isKeyword('false')) {
      this.next();
      return { scalar: { type: 'boolean', value: token.text === 'true' }, span: spanOf(token) };
    }
    if (this.acceptKeyword('now')) return { scalar: { type: 'now' }, span: spanOf(token) };
    if (this.isKeyword('date')) {
      this.next();
      this.expectPunct('(');
      const parts: Token[] = [];
      do parts.push(this.expectKind('number', 'a number'));
      while (parts.length < 7 && this.acceptPunct(','));
      // Fewer than three numbers: the error names the missing "," at the closing parenthesis.
      if (parts.length < 3) throw this.unexpected();
      this.expectPunct(')');
      return { scalar: { type: 'date', value: parseDateArguments(parts) }, span: this.span(token.start) };
    }
    this.note('a string');
    this.note('a number');
    throw this.unexpected();
  }

  private parseList(): { values: Scalar[]; spans: Span[] } {
    this.expectPunct('[');
    const values: Scalar[] = [];
    const spans: Span[] = [];
    if (this.acceptPunct(']')) return { values, spans };
    do {
      if (values.length === LIMITS.listValues) {
        throw languageError('limit', this.token.start, `a list holds more than ${LIMITS.listValues.toLocaleString('en-US')} values`);
      }
      const value = this.parseScalar();
      values.push(value.scalar);
      spans.push(value.span);
    } while (this.acceptPunct(','));
    this.expectPunct(']');
    return { values, spans };
  }
}


