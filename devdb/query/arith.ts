import { Decimal128, Long } from 'bson';
import { DevDbError, ErrorCode } from '../errors.js';
import { makeNumber, numKind, toNumber, type NumKind } from './values.js';

const RANK: Record<NumKind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

function toBigInt(v: unknown): bigint {
  if (numKind(v) === 'long') return BigInt((v as Long).toString());
  return BigInt(Math.trunc(toNumber(v)));
}

/**
 * `$inc` / `$mul` with MongoDB's type promotion: int op int stays int unless it overflows (then long),
 * long stays long, anything with a double is a double, anything with a decimal is a decimal.
 */
export function arith(a: unknown, b: unknown, op: 'add' | 'mul', opName: string, field: string): unknown {
  const ka = numKind(a);
  const kb = numKind(b);
  if (kb === undefined) {
    throw new DevDbError(ErrorCode.TypeMismatch, `Cannot ${opName === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${field}: ${String(b)}}`);
  }
  if (ka === undefined) {
    throw new DevDbError(ErrorCode.TypeMismatch, `Cannot apply ${opName} to a value of non-numeric type. {_id: ...} has the field '${field}' of non-numeric type ${a === null ? 'null' : typeof a}`);
  }
  const kind = RANK[ka] >= RANK[kb] ? ka : kb;
  if (kind === 'decimal') {
    const x = Number((numKind(a) === 'decimal' ? (a as Decimal128).toString() : String(toNumber(a))));
    const y = Number((numKind(b) === 'decimal' ? (b as Decimal128).toString() : String(toNumber(b))));
    return makeNumber('decimal', op === 'add' ? x + y : x * y);
  }
  if (kind === 'double') {
    const x = toNumber(a);
    const y = toNumber(b);
    return makeNumber('double', op === 'add' ? x + y : x * y);
  }
  const r = op === 'add' ? toBigInt(a) + toBigInt(b) : toBigInt(a) * toBigInt(b);
  if (kind === 'int' && r >= -2147483648n && r <= 2147483647n) return makeNumber('int', r);
  if (r < -(2n ** 63n) || r >= 2n ** 63n) {
    throw new DevDbError(ErrorCode.BadValue, `Failed to apply ${opName} operations to current value (${String(a)}) for document {_id: ...}: integer overflow`);
  }
  return makeNumber('long', r);
}

/** Zero of the same numeric type as v (what `$mul` multiplies a missing field from). */
export function zeroLike(v: unknown): unknown {
  const k = numKind(v) ?? 'int';
  return makeNumber(k, k === 'long' ? 0n : 0);
}
