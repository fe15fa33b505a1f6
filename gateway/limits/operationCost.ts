/**
 * What an operation may make the platform resolve, estimated before execution
 * from the document, its variables and the schema:
 *
 * - every field costs 1;
 * - a field with a list-size argument (`first`, `last`, `limit`) multiplies what
 *   it selects by that argument's value, however it is given: a literal, a
 *   variable (its value, else the variable's default), or, when the argument is
 *   left out, the schema's default for it;
 * - a list field without one multiplies by ASSUMED_LIST_SIZE, except the
 *   `edges`/`nodes` of a connection, which its own `first` already bounds;
 * - aliases and fragments count every time they are selected.
 *
 * So `accounts(first: $n)` with n = 100 costs what `accounts(first: 100)` costs,
 * and `accounts` alone what `accounts(first: 50)` costs when 50 is the default.
 */
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  valueFromAST,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  isObjectType,
  isInterfaceType,
} from 'graphql';

/** Arguments that bound how many items a field answers. */
export const LIST_SIZE_ARGUMENTS = ['first', 'last', 'limit'] as const;
/** A list without a size argument (a person's accounts, a segment's dependencies) is assumed this long. */
export const ASSUMED_LIST_SIZE = 10;

export interface OperationCostInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  /** As the client sent them (not yet coerced); a missing variable counts as its default. */
  variables?: Readonly<Record<string, unknown>> | null;
}

export function operationCost(input: OperationCostInput): number {
  return estimateCost(input).cost;
}

/**
 * `operationCost` remembered per parsed document (the runtime's parser cache hands
 * the same document object to every request with the same text, so entries live
 * as long as that bounded cache keeps the document). A cost that depends on the
 * variables' values (`first: $n`) is computed for every request.
 */
export function createOperationCostCache(): (input: OperationCostInput) => number {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();
  return (input) => {
    let byDocument = bySchema.get(input.schema);
    if (!byDocument) bySchema.set(input.schema, (byDocument = new WeakMap()));
    const operationKey = input.operationName ?? '';
    const known = byDocument.get(input.document)?.get(operationKey);
    if (known !== undefined) return known;
    const { cost, readsVariables } = estimateCost(input);
    if (!readsVariables) {
      let byOperation = byDocument.get(input.document);
      if (!byOperation) byDocument.set(input.document, (byOperation = new Map()));
      byOperation.set(operationKey, cost);
    }
    return cost;
  };
}

function estimateCost(input: OperationCostInput): { cost: number; readsVariables: boolean } {
  const operation = selectOperation(input.document, input.operationName);
  if (!operation) return { cost: 0, readsVariables: false };
  const rootType = input.schema.getRootType(operation.operation);
  if (!rootType) return { cost: 0, readsVariables: false };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of input.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variables = variableValues(operation, input.variables ?? {});
  const counter = new CostCounter(input.schema, fragments, variables);
  const cost = counter.selectionSetCost(operation.selectionSet, rootType);
  return { cost, readsVariables: counter.readsVariables };
}

function selectOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((operation) => operation.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/** The variables' values: what the client sent, else each variable's default in the document. */
function variableValues(operation: OperationDefinitionNode, sent: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const value = sent[name];
    if (value !== undefined && value !== null) values[name] = value;
    else if (definition.defaultValue) values[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return values;
}

class CostCounter {
  /** Whether a size came from a variable, so the cost holds only for these variables' values. */
  readsVariables = false;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Readonly<Record<string, unknown>>,
  ) {}

  selectionSetCost(selectionSet: SelectionSetNode, parentType: GraphQLCompositeType): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += this.fieldCost(selection, parentType);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        cost += this.selectionSetCost(selection.selectionSet, this.compositeType(typeName) ?? parentType);
      } else {
        const fragment = this.fragments.get(selection.name.value);
        if (fragment) cost += this.selectionSetCost(fragment.selectionSet, this.compositeType(fragment.typeCondition.name.value) ?? parentType);
      }
    }
    return cost;
  }

  private fieldCost(node: FieldNode, parentType: GraphQLCompositeType): number {
    const name = node.name.value;
    // Introspection and __typename are answered by the gateway itself, from the schema.
    if (name.startsWith('__')) return 0;
    const field = this.fieldDefinition(parentType, name);
    if (!field || !node.selectionSet) return 1;
    const childType = getNamedType(field.type);
    if (!isCompositeType(childType)) return 1;
    return 1 + this.multiplier(node, field, parentType) * this.selectionSetCost(node.selectionSet, childType);
  }

  /** How many times a field's selection is resolved per parent. */
  private multiplier(node: FieldNode, field: GraphQLField<unknown, unknown>, parentType: GraphQLCompositeType): number {
    for (const argumentName of LIST_SIZE_ARGUMENTS) {
      const definition = field.args.find((arg) => arg.name === argumentName);
      if (!definition) continue;
      const given = node.arguments?.find((arg) => arg.name.value === argumentName)?.value;
      if (given && (given.kind === Kind.VARIABLE || given.kind === Kind.LIST || given.kind === Kind.OBJECT)) this.readsVariables = true;
      let size: unknown;
      if (given?.kind === Kind.VARIABLE) size = this.variables[given.name.value];
      else if (given && given.kind !== Kind.NULL) size = valueFromAST(given, definition.type, this.variables);
      size ??= definition.defaultValue;
      // Without a usable number the subgraph picks the size: assume a list's worth.
      return typeof size === 'number' && Number.isFinite(size) ? Math.max(1, Math.ceil(size)) : ASSUMED_LIST_SIZE;
    }
    if (!isListType(getNullableType(field.type))) return 1;
    // A connection's edges and nodes are as many as the connection's own first/last.
    return parentType.name.endsWith('Connection') ? 1 : ASSUMED_LIST_SIZE;
  }

  private fieldDefinition(parentType: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
    if (isObjectType(parentType) || isInterfaceType(parentType)) return parentType.getFields()[name];
    return undefined;
  }

  private compositeType(name: string | undefined): GraphQLCompositeType | undefined {
    if (!name) return undefined;
    const type = this.schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  }
}
