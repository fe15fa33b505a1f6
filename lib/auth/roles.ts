/**
 * Roles of an API key, each including the ones before it:
 * viewer reads; editor also writes data and segments; admin also manages keys,
 * destinations and its sandbox. Creating and deleting sandboxes is a platform
 * permission on top of a role (`platformAdmin`).
 */
import { DomainError, ErrorCode } from '../errors.js';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who is calling, as established by the gateway and carried to the subgraphs. */
export interface Principal {
  sandbox: string;
  role: Role;
  /** The API key's id (never the key itself); absent for platform-internal calls. */
  keyId?: string;
  /**
   * Platform administration (creating and deleting sandboxes, seeing every sandbox): held by the
   * bootstrap key and granted by another platform admin. Checked by the admin API only; never
   * forwarded to the subgraphs.
   */
  platformAdmin?: boolean;
}

export function hasRole(principal: Principal, needed: Role): boolean {
  return ROLES.indexOf(principal.role) >= ROLES.indexOf(needed);
}

export function requirePlatformAdmin(principal: Principal): void {
  if (principal.platformAdmin !== true) {
    throw new DomainError(
      ErrorCode.Forbidden,
      'This operation needs a platform admin key (the bootstrap key, or a key a platform admin created with platformAdmin: true)',
      { details: { needed: 'platformAdmin', role: principal.role } },
    );
  }
}

export function requireRole(principal: Principal, needed: Role): void {
  if (!hasRole(principal, needed)) {
    throw new DomainError(ErrorCode.Forbidden, `This operation needs the ${needed} role; the API key has ${principal.role}`, {
      details: { needed, role: principal.role },
    });
  }
}
