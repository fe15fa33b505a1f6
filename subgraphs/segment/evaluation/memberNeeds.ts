/**
 * What of a member the segments of a run can read, so the member loader reads only that: the
 * person fields their paths start with, the relations they use, whether `inSegment` needs the
 * member's current segments, and how far back events matter.
 *
 * Events are read from the earliest time any events condition can match. Dropping events that
 * cannot satisfy a relation's condition changes nothing for `.any(c)`, `.none(c)` and
 * `.count(c) <op> n` (they only see elements that satisfy `c`); `.all(c)` and the forms without a
 * condition see every element, so any of them means all events.
 */
import { PERSON_DOCUMENT_FIELDS } from '../../profile/profile.view.js';
import type { Expr, Scalar } from '../language/index.js';
import { MAX_DATE_MS, UNIT_MS } from './pipelineExpressions.js';

export interface PersonNeeds {
  /** Person fields to read (those of PERSON_DOCUMENT_FIELDS a path starts with). */
  fields: readonly string[];
  /** Null when no condition reads events; `since` null means every event. */
  events: { since: Date | null } | null;
  /** The person's account links with their accounts (`accounts` or `account.<field>`). */
  accounts: boolean;
  /** The person's opportunity contacts with their opportunities. */
  opportunities: boolean;
  /** The segments the person is in now (`inSegment`). */
  segments: boolean;
}

export interface AccountNeeds {
  /** What of each related person; null when `people` is not used. */
  people: PersonNeeds | null;
  opportunities: boolean;
  segments: boolean;
}

export interface MemberNeeds {
  person: PersonNeeds;
  account: AccountNeeds;
}

const EVERY_PERSON: PersonNeeds = { fields: PERSON_DOCUMENT_FIELDS, events: { since: null }, accounts: true, opportunities: true, segments: true };

/** Everything a member can carry: for preview, explain and streaming, whose conditions vary per call. */
export const ALL_MEMBER_NEEDS: MemberNeeds = { person: EVERY_PERSON, account: { people: EVERY_PERSON, opportunities: true, segments: true } };

/** Collects what a scope's conditions read. */
class ScopeUse {
  readonly fields = new Set<string>();
  readonly relations = new Map<string, ScopeUse>();
  segments = false;
  /** Earliest event time (epoch ms) a condition can match; -Infinity when every event matters. */
  eventsSince = Number.POSITIVE_INFINITY;

  relation(name: string): ScopeUse {
    let use = this.relations.get(name);
    if (!use) this.relations.set(name, (use = new ScopeUse()));
    return use;
  }
}

/** What the segments of a run, all of one target, read of their members at evaluation time `now`. */
export function memberNeeds(exprs: readonly Expr[], now: Date): MemberNeeds {
  const top = new ScopeUse();
  for (const expr of exprs) collect(expr, top, now.getTime());
  return { person: personNeeds(top), account: accountNeeds(top) };
}

function collect(expr: Expr, scope: ScopeUse, now: number): void {
  switch (expr.kind) {
    case 'and':
    case 'or':
      for (const operand of expr.operands) collect(operand, scope, now);
      return;
    case 'not':
      collect(expr.operand, scope, now);
      return;
    case 'constant':
      return;
    case 'inSegment':
      scope.segments = true;
      return;
    case 'quantifier':
    case 'count': {
      const elements = scope.relation(expr.relation);
      if (expr.condition) collect(expr.condition, elements, now);
      const seesEveryElement = !expr.condition || (expr.kind === 'quantifier' && expr.quantifier === 'all');
      const since = seesEveryElement ? Number.NEGATIVE_INFINITY : earliestMatch(expr.condition!, now);
      elements.eventsSince = Math.min(elements.eventsSince, since);
      return;
    }
    default:
      scope.fields.add(expr.path[0]!);
  }
}

function personNeeds(use: ScopeUse): PersonNeeds {
  const events = use.relations.get('events');
  return {
    fields: PERSON_DOCUMENT_FIELDS.filter((field) => use.fields.has(field)),
    events: events ? { since: Number.isFinite(events.eventsSince) && events.eventsSince >= -MAX_DATE_MS ? new Date(events.eventsSince) : null } : null,
    accounts: use.relations.has('accounts') || use.fields.has('account'),
    opportunities: use.relations.has('opportunities'),
    segments: use.segments,
  };
}

function accountNeeds(use: ScopeUse): AccountNeeds {
  const people = use.relations.get('people');
  return { people: people ? personNeeds(people) : null, opportunities: use.relations.has('opportunities'), segments: use.segments };
}

/** A time the literal stands for, or undefined when it is not one. */
function timeOf(scalar: Scalar, now: number): number | undefined {
  if (scalar.type === 'now') return now;
  return scalar.type === 'date' ? scalar.value : undefined;
}

/**
 * The earliest event `timestamp` for which an event condition can hold (epoch ms), or -Infinity
 * when it can hold for an event of any age. Only windows and lower bounds on `timestamp` count.
 */
export function earliestMatch(expr: Expr, now: number): number {
  const NONE = Number.NEGATIVE_INFINITY;
  switch (expr.kind) {
    case 'and':
      return Math.max(NONE, ...expr.operands.map((operand) => earliestMatch(operand, now)));
    case 'or':
      return expr.operands.length === 0 ? NONE : Math.min(...expr.operands.map((operand) => earliestMatch(operand, now)));
    case 'occurs': {
      if (expr.path.length !== 1 || expr.path[0] !== 'timestamp') return NONE;
      const window = expr.window;
      if (window.kind === 'between') return timeOf(window.from, now) ?? NONE;
      return window.op === '<=' || window.op === '<' ? now - window.amount * UNIT_MS[window.unit] : NONE;
    }
    case 'compare': {
      if (expr.path.length !== 1 || expr.path[0] !== 'timestamp') return NONE;
      if (expr.op !== '>=' && expr.op !== '>' && expr.op !== '=') return NONE;
      return timeOf(expr.value, now) ?? NONE;
    }
    default:
      return NONE;
  }
}
