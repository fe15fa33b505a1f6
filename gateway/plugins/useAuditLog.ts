/**
 * Records admin actions on the federated graph (destination changes) in the
 * audit log, next to the key, sandbox and role that did them. The gateway is
 * where the caller is known, so it is the one writer of the log. Only actions
 * that succeeded are recorded; a failure to record is logged, never surfaced.
 */
import {
  Kind,
  getOperationAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { Logger } from '../../lib/logger.js';
import type { RequestIdentityContext } from './useRequestIdentity.js';

/** Root mutation fields that are admin actions, and the action each records. */
export const AUDITED_MUTATIONS: Readonly<Record<string, { action: string; kind: string }>> = {
  createDestination: { action: 'destination.create', kind: 'destination' },
  updateDestination: { action: 'destination.update', kind: 'destination' },
  deleteDestination: { action: 'destination.delete', kind: 'destination' },
};

export type AuditRecorder = (
  principal: RequestIdentityContext['identity']['principal'],
  action: string,
  target: string,
) => Promise<void>;

export function useAuditLog(options: { record: AuditRecorder; logger: Logger }): GatewayPlugin<RequestIdentityContext> {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const audited = rootFields(operation.selectionSet, args.document).filter((field) => field.name.value in AUDITED_MUTATIONS);
      const principal = (args.contextValue as Partial<RequestIdentityContext>).identity?.principal;
      if (audited.length === 0 || !principal) return;
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      return {
        onExecuteDone({ result }) {
          const data = 'data' in result ? (result.data as Record<string, unknown> | null | undefined) : undefined;
          for (const field of audited) {
            const value = data?.[field.alias?.value ?? field.name.value];
            if (value === null || value === undefined) continue;
            const { action, kind } = AUDITED_MUTATIONS[field.name.value]!;
            const id = targetId(value, field, variables);
            options.record(principal, action, `${kind}:${id}`).catch((error: unknown) =>
              options.logger.error({ err: error, action }, 'Could not record an admin action in the audit log'),
            );
          }
        },
      };
    },
  };
}

/** The root fields of an operation, through inline fragments and fragment spreads (`... on Mutation { ... }`). */
function rootFields(selectionSet: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...rootFields(selection.selectionSet, document, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find(
        (definition): definition is FragmentDefinitionNode =>
          definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === selection.name.value,
      );
      if (fragment) fields.push(...rootFields(fragment.selectionSet, document, seen));
    }
  }
  return fields;
}

/** The id of what was changed: the result's `id`, the result itself (deletes return the id), or the `id` argument. */
function targetId(value: unknown, field: FieldNode, variables: Record<string, unknown>): string {
  if (typeof value === 'string') return value;
  const fromResult = (value as { id?: unknown }).id;
  if (typeof fromResult === 'string') return fromResult;
  const argument = field.arguments?.find((arg) => arg.name.value === 'id')?.value;
  const fromArgument = argument ? literal(argument, variables) : undefined;
  return typeof fromArgument === 'string' ? fromArgument : 'unknown';
}

function literal(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.STRING) return node.value;
  return undefined;
}
