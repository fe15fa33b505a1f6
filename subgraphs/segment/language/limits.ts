/** Bounds on what one expression may cost to parse, check, store and evaluate. */
export const LIMITS = { expressionLength: 20_000, depth: 32, listValues: 1_000 } as const;
