/** MongoDB server error codes devdb answers with (names as in MongoDB's error_codes.yml). */
export enum ErrorCode {
  InternalError = 1,
  BadValue = 2,
  NoSuchKey = 4,
  FailedToParse = 9,
  TypeMismatch = 14,
  IllegalOperation = 20,
  NamespaceNotFound = 26,
  IndexNotFound = 27,
  PathNotViable = 28,
  ConflictingUpdateOperators = 40,
  CursorNotFound = 43,
  NamespaceExists = 48,
  MaxTimeMSExpired = 50,
  DollarPrefixedFieldName = 52,
  InvalidIdField = 53,
  NotSingleValueField = 54,
  CommandNotFound = 59,
  ImmutableField = 66,
  CannotCreateIndex = 67,
  IndexAlreadyExists = 68,
  InvalidOptions = 72,
  InvalidNamespace = 73,
  IndexOptionsConflict = 85,
  IndexKeySpecsConflict = 86,
  OperationNotSupportedInTransaction = 263,
  NoSuchTransaction = 251,
  InvalidResumeToken = 260,
  ChangeStreamFatalError = 280,
  ChangeStreamHistoryLost = 286,
  Location16755 = 16755,
  DuplicateKey = 11000,
  BSONObjectTooLarge = 10334,
  Unauthorized = 13,
  NotImplemented = 238,
  QueryFeatureNotAllowed = 224,
  DocumentValidationFailure = 121,
  Location40324 = 40324,
  /** IDL: "BSON field '...' is an unknown field." */
  Location40415 = 40415,
  /** `$merge` with `whenNotMatched: 'fail'` found no matching document. */
  MergeStageNoMatchingDocument = 13113,
  /** Both resumeAfter and startAfter given to a change stream. */
  Location40674 = 40674,
  /** A `$merge` result document without a value for an `on` field. */
  Location51132 = 51132,
  /** `$merge` `on` fields without a unique index. */
  Location51183 = 51183,
}

/** An error that is sent to the client as `{ ok: 0, code, codeName, errmsg, ...extra }`. */
export class DevDbError extends Error {
  readonly code: ErrorCode;
  readonly extra: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'DevDbError';
    this.code = code;
    this.extra = extra;
  }

  get codeName(): string {
    return ErrorCode[this.code] ?? 'UnknownError';
  }

  /** The reply document for a failed command. */
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** The entry for a `writeErrors` array. */
  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

/** Turns anything thrown into a DevDbError; mingo and bugs become InternalError/BadValue with a message. */
export function asDevDbError(err: unknown): DevDbError {
  if (err instanceof DevDbError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // mingo reports unknown/invalid operators with plain Errors; MongoDB answers those with BadValue-like codes.
  return new DevDbError(ErrorCode.BadValue, message);
}
