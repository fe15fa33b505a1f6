/** Thin resolvers of the admin API: read arguments and the caller, call the tenancy service. */
import type { Principal } from '../../lib/auth/roles.js';
import { DateTimeScalar } from '../../lib/subgraph/scalars.js';
import type { TenancyService } from '../../lib/tenancy/tenancy.service.js';
import type { AuditEntry } from '../../lib/tenancy/tenancy.repository.js';

export interface AdminContext {
  readonly principal: Principal;
  readonly tenancy: TenancyService;
}

type Args<T> = { readonly [K in keyof T]: T[K] };

export const adminResolvers = {
  DateTime: DateTimeScalar,
  Query: {
    me: (_: unknown, __: unknown, { principal }: AdminContext) => principal,
    sandboxes: (_: unknown, __: unknown, { principal, tenancy }: AdminContext) => tenancy.listSandboxes(principal),
    apiKeys: (_: unknown, __: unknown, { principal, tenancy }: AdminContext) => tenancy.listApiKeys(principal),
    auditLog: (_: unknown, args: Args<{ first: number; before?: Date | null }>, { principal, tenancy }: AdminContext) =>
      tenancy.auditLog(principal, args.first, args.before ?? undefined),
  },
  Mutation: {
    createSandbox: (_: unknown, args: Args<{ name: string }>, { principal, tenancy }: AdminContext) =>
      tenancy.createSandbox(principal, args.name),
    resetSandbox: (_: unknown, args: Args<{ name: string }>, { principal, tenancy }: AdminContext) =>
      tenancy.resetSandbox(principal, args.name),
    deleteSandbox: (_: unknown, args: Args<{ name: string }>, { principal, tenancy }: AdminContext) =>
      tenancy.deleteSandbox(principal, args.name),
    createApiKey: (_: unknown, args: Args<{ name: string; role: string; platformAdmin?: boolean | null }>, { principal, tenancy }: AdminContext) =>
      tenancy.createApiKey(principal, args),
    revokeApiKey: (_: unknown, args: Args<{ id: string }>, { principal, tenancy }: AdminContext) =>
      tenancy.revokeApiKey(principal, args.id),
  },
  Caller: {
    platformAdmin: (principal: Principal) => principal.platformAdmin === true,
  },
  AuditEntry: {
    id: (entry: AuditEntry) => entry._id,
    actorRole: (entry: AuditEntry) => entry.actor.role,
    actorKeyId: (entry: AuditEntry) => entry.actor.keyId,
  },
};
