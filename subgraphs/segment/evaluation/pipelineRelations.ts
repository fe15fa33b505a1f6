/**
 * Relation conditions (`.any/.all/.none/.count`), `inSegment` and the primary account as
 * `$lookup` stages of a level. Each relation condition gets its own lookup on the relation's
 * indexed join field, with the condition pushed inside it (a prefilter on the joined collection,
 * then the exact test) and the result reduced to a count, capped at what the decision needs;
 * nothing is carried whole. Relation elements are built as the member loader builds them: one per
 * account, opportunity or person (the preferred link speaks for it; see `comparePreferredLinks`),
 * the link's fields over the related record's.
 */
import type { Document } from 'mongodb';
import {
  ACCOUNT_DOCUMENT_FIELDS,
  OPPORTUNITY_DOCUMENT_FIELDS,
  linkRoleField,
  linkTargetIdExpression,
  linkTargetLookup,
  linksOfPersonLookup,
  opportunitiesOfAccountLookup,
  peopleLinksOfAccountLookup,
  preferredLinkStages,
  type LinkKind,
} from '../../account/account.view.js';
import { PERSON_LINK_KEYS_FIELD, eventsOfPersonLookup, peopleByLinkKeyLookup } from '../../profile/profile.view.js';
import type { ComparisonOperator, CountNode, Expr, QuantifierNode } from '../language/index.js';
import { CURRENT_STATUSES, MEMBERSHIPS_COLLECTION } from '../memberships.layout.js';
import type { AggExpr } from './pipelineExpressions.js';
import type { Level, PipelineBuild } from './pipelineLevel.js';
import { PRIMARY_ACCOUNT_FIELD, SCOPES, type PipelineScope } from './pipelineScopes.js';
import { prefilter } from './prefilter.js';

type FilterStages = (expr: Expr, scope: PipelineScope, build: PipelineBuild) => Document[];

/** Counts above this are computed in full rather than capped (a `$limit` that large saves nothing). */
const MAX_COUNT_CAP = 1_000_000;
const TARGET = '__target';

const projection = (fields: readonly string[]): Document => ({ $project: Object.fromEntries(fields.map((field) => [field, 1])) });
const matchStage = (filter: Document | undefined): Document[] => (filter ? [{ $match: filter }] : []);

/** The fields the related record itself stores (not the link's) of an element scope, for prefilters inside the record's lookup. */
function storedFields(scope: PipelineScope, linkFields: readonly string[]): ReadonlySet<string> {
  return new Set([...scope.fields].filter((field) => !linkFields.includes(field)));
}

/** What to count and how the count decides the condition. */
interface CountPlan {
  counted: Expr | null;
  /** Counting stops here; undefined: count everything. */
  cap?: number;
  decide: (count: AggExpr) => AggExpr;
}

const ORDER = { '=': '$eq', '!=': '$ne', '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' } as const;

function countOutcome(op: ComparisonOperator, count: number, n: number): boolean {
  switch (op) {
    case '=':
      return count === n;
    case '!=':
      return count !== n;
    case '<':
      return count < n;
    case '<=':
      return count <= n;
    case '>':
      return count > n;
    case '>=':
      return count >= n;
  }
}

/** The plan, or the condition's constant value when no element can change it. */
function planOf(node: QuantifierNode | CountNode): CountPlan | boolean {
  if (node.kind === 'quantifier') {
    switch (node.quantifier) {
      case 'any':
        return { counted: node.condition, cap: 1, decide: (count) => ({ $gt: [count, 0] }) };
      case 'none':
        return { counted: node.condition, cap: 1, decide: (count) => ({ $eq: [count, 0] }) };
      case 'all':
        if (node.condition === null) return true;
        return { counted: { kind: 'not', operand: node.condition }, cap: 1, decide: (count) => ({ $eq: [count, 0] }) };
    }
  }
  const { op, value: n } = node;
  // Every count is >= 0: below that, the outcome is the same for all of them.
  if (n < 0) return countOutcome(op, 0, n);
  // The outcome depends only on min(count, floor(n) + 1).
  const cap = Math.floor(n) + 1;
  return { counted: node.condition, cap: cap <= MAX_COUNT_CAP ? cap : undefined, decide: (count) => ({ [ORDER[op]]: [count, n] }) };
}

/** The exact test of the counted condition on the elements, then the cap and the count. */
function countStages(plan: CountPlan, scope: PipelineScope, build: PipelineBuild, filterStages: FilterStages): Document[] {
  const stages: Document[] = [];
  if (plan.counted) stages.push(...filterStages(plan.counted, scope, build));
  if (plan.cap !== undefined) stages.push({ $limit: plan.cap });
  stages.push({ $count: 'n' });
  return stages;
}

/** A person's accounts or opportunities: links by link key, one per target, joined to it. */
function personLinksLookup(kind: LinkKind, as: string, targetFilter: Document | undefined, element: Document[]): Document {
  const role = linkRoleField(kind);
  const fields = kind === 'accounts' ? ACCOUNT_DOCUMENT_FIELDS : OPPORTUNITY_DOCUMENT_FIELDS;
  return linksOfPersonLookup(kind, {
    localField: PERSON_LINK_KEYS_FIELD,
    as,
    pipeline: [
      ...preferredLinkStages(),
      { $group: { _id: linkTargetIdExpression(kind), link: { $first: '$$ROOT' } } },
      { $replaceWith: '$link' },
      linkTargetLookup(kind, { as: TARGET, pipeline: [...matchStage(targetFilter), projection(fields)] }),
      { $unwind: `$${TARGET}` },
      { $replaceWith: { $mergeObjects: [`$${TARGET}`, { isPrimary: { $eq: ['$isPrimary', true] }, [role]: { $ifNull: [`$${role}`, null] } }] } },
      ...element,
    ],
  });
}

/** An account's people: its person links joined to the people holding their keys, one per person. */
function accountPeopleLookup(as: string, personFilter: Document | undefined, element: Document[]): Document {
  const person = '__person';
  return peopleLinksOfAccountLookup({
    as,
    pipeline: [
      peopleByLinkKeyLookup({ localField: 'personKey', as: person, pipeline: matchStage(personFilter) }),
      { $unwind: `$${person}` },
      ...preferredLinkStages(),
      { $group: { _id: `$${person}._id`, link: { $first: '$$ROOT' } } },
      {
        $replaceWith: {
          $mergeObjects: [`$link.${person}`, { isPrimary: { $eq: ['$link.isPrimary', true] }, jobRole: { $ifNull: ['$link.jobRole', null] } }],
        },
      },
      ...element,
    ],
  });
}

function relationLookup(node: QuantifierNode | CountNode, level: Level, plan: CountPlan, as: string, build: PipelineBuild, filterStages: FilterStages): Document {
  const scopeName = level.scope.relations[node.relation];
  if (!scopeName) throw new Error(`${node.relation} is not a relation of ${level.scope.name}`);
  const scope = SCOPES[scopeName];
  const element = countStages(plan, scope, build, filterStages);
  const filterOn = (fields: ReadonlySet<string>) => (plan.counted ? prefilter(plan.counted, fields, build.now) : undefined);
  switch (scopeName) {
    case 'event':
      return eventsOfPersonLookup({ as, pipeline: [...matchStage(filterOn(scope.fields)), ...element] });
    case 'accountOpportunity':
      return opportunitiesOfAccountLookup({ as, pipeline: [...matchStage(filterOn(scope.fields)), ...element] });
    case 'personAccount':
      return personLinksLookup('accounts', as, filterOn(storedFields(scope, ['isPrimary', 'jobRole'])), element);
    case 'personOpportunity':
      return personLinksLookup('opportunities', as, filterOn(storedFields(scope, ['isPrimary', 'role'])), element);
    case 'accountPerson':
      return accountPeopleLookup(as, filterOn(storedFields(scope, ['isPrimary', 'jobRole'])), element);
    default:
      throw new Error(`no lookup for the elements of ${scopeName}`);
  }
}

/** `relation.any/all/none(...)` or `relation.count(...) <op> n` on a level. */
export function relationCondition(node: QuantifierNode | CountNode, level: Level, build: PipelineBuild, filterStages: FilterStages): AggExpr {
  const plan = planOf(node);
  if (typeof plan === 'boolean') return plan;
  const field = build.field('count');
  level.stages.push(relationLookup(node, level, plan, field, build, filterStages));
  return plan.decide({ $ifNull: [{ $arrayElemAt: [`$${field}.n`, 0] }, 0] });
}

/** `inSegment("id")`: the level's document (member or person element) has a current membership of that segment. */
export function inSegmentCondition(segmentId: string, level: Level, build: PipelineBuild): AggExpr {
  const memberType = level.scope.inSegment;
  if (!memberType) throw new Error(`inSegment cannot be used on ${level.scope.name}`);
  let field = level.segments.get(segmentId);
  if (!field) {
    field = build.field('segment');
    level.segments.set(segmentId, field);
    level.stages.push(
      // Memberships are keyed `<segmentId>:<memberId>` (memberships.layout.ts): one `_id` lookup.
      { $addFields: { [field]: { $concat: [{ $literal: `${segmentId}:` }, { $toString: '$_id' }] } } },
      {
        $lookup: {
          from: MEMBERSHIPS_COLLECTION,
          localField: field,
          foreignField: '_id',
          pipeline: [{ $match: { status: { $in: [...CURRENT_STATUSES] }, memberType } }, { $project: { _id: 1 } }],
          as: field,
        },
      },
    );
  }
  return { $gt: [{ $size: `$${field}` }, 0] };
}

/**
 * The person's primary account as a one-element (or empty) array in PRIMARY_ACCOUNT_FIELD: the
 * preferred primary link whose account still exists.
 */
export function primaryAccountLookup(): Document {
  return linksOfPersonLookup('accounts', {
    localField: PERSON_LINK_KEYS_FIELD,
    as: PRIMARY_ACCOUNT_FIELD,
    pipeline: [
      { $match: { isPrimary: true } },
      ...preferredLinkStages(),
      linkTargetLookup('accounts', { as: TARGET, pipeline: [projection(ACCOUNT_DOCUMENT_FIELDS)] }),
      { $unwind: `$${TARGET}` },
      { $limit: 1 },
      { $replaceWith: `$${TARGET}` },
    ],
  });
}

