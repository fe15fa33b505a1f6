/**
 * Secrets that must not sit in a destination's `config` (any caller reads it):
 * found by the key's name (`password`, `headers.Authorization`), by the value's
 * shape (well-known token prefixes, `Bearer ...`, JWTs, private keys), by a
 * high-entropy value in a header, and in URLs (a user and password, or a query
 * parameter named like a secret). Such values belong in `credentials`, which
 * are encrypted at rest and never returned.
 */
import type { JsonObject, JsonValue } from '../../lib/subgraph/scalars.js';

/** Key names that hold secrets, anywhere in the name (`secretAccessKey`, `signingKey`, `pass`). */
const SECRET_KEY =
  /(password|passwd|passphrase|^pass$|^pwd$|secret|token|api_?key|private_?key|access_?key|signing_?key|authori[sz]ation|^auth$|credential|cookie|session_?id|bearer)/i;
/** Where a secret is fetched from is not a secret (`tokenUrl`, `tokenEndpoint`). */
const LOCATION_KEY = /(url|uri|endpoint)$/i;

/** Shapes of well-known secrets, matched anywhere in a string value. */
const SECRET_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b[sr]k_(live|test)_\w/, 'a Stripe secret key'],
  [/\bwhsec_\w/, 'a webhook signing secret'],
  [/\bxox[abeprs]-\w/, 'a Slack token'],
  [/\bxapp-\d/, 'a Slack app token'],
  [/\b(gh[pousr]_\w{10,}|github_pat_\w{10,})/, 'a GitHub token'],
  [/\bglpat-[\w-]{10,}/, 'a GitLab token'],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bAIza[\w-]{35}\b/, 'a Google API key'],
  [/\bSG\.[\w-]{16,}\.[\w-]{16,}/, 'a SendGrid key'],
  [/\bnpm_[A-Za-z0-9]{36}\b/, 'an npm token'],
  [/\bcdpk_[\w-]{43}/, 'an API key of this platform'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*/, 'a JSON Web Token'],
  [/^\s*(bearer|basic|token|digest)\s+\S{8,}/i, 'an Authorization value'],
];

/** How long a random run must be for a header value to be taken for a generated secret. */
const GENERATED_MIN_LENGTH = 20;

export interface FoundSecret {
  /** Where, e.g. `config.headers.X-Api-Key`. Never the value itself. */
  path: string;
  /** What it looks like, e.g. "a Stripe secret key", "a secret by its name". */
  what: string;
}

function entropyBitsPerChar(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A header value that looks machine-generated, as secret scanners judge it: hexadecimal (dashes
 * allowed, as in UUIDs) of 20+ digits with ~3 bits of entropy per character, or an unbroken run of
 * 20+ letters and digits mixing upper case, lower case and digits with ~3.5 bits. Words joined by
 * dashes (`campaign-2026-03-spring-launch`) and host names are neither.
 */
function looksGenerated(value: string): boolean {
  const hex = value.replace(/-/g, '');
  if (hex.length >= GENERATED_MIN_LENGTH && /^[0-9a-f]+$/i.test(hex) && /\d/.test(hex) && /[a-f]/i.test(hex)) {
    return entropyBitsPerChar(hex.toLowerCase()) >= 3;
  }
  return value
    .split(/[^A-Za-z0-9+/]+/)
    .some((run) => run.length >= GENERATED_MIN_LENGTH && /[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run) && entropyBitsPerChar(run) >= 3.5);
}

function secretInUrl(value: string): string | undefined {
  if (!/^https?:\/\//i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return 'a user or password in a URL';
  for (const [name, parameter] of url.searchParams) {
    if (SECRET_KEY.test(name) || SECRET_SHAPES.some(([shape]) => shape.test(parameter))) return 'a secret in a URL query';
  }
  return undefined;
}

function secretInString(value: string, inHeaders: boolean): string | undefined {
  const shape = SECRET_SHAPES.find(([pattern]) => pattern.test(value));
  if (shape) return shape[1];
  if (inHeaders && looksGenerated(value)) return 'a generated secret (a long random header value)';
  return secretInUrl(value);
}

function find(value: JsonValue, path: string, inHeaders: boolean): FoundSecret | undefined {
  if (typeof value === 'string') {
    const what = secretInString(value, inHeaders);
    return what ? { path, what } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = find(item, `${path}[${index}]`, inHeaders);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEY.test(key) && !LOCATION_KEY.test(key)) return { path: `${path}.${key}`, what: 'a secret by its name' };
      const found = find(item, `${path}.${key}`, inHeaders || /^headers$/i.test(key));
      if (found) return found;
    }
  }
  return undefined;
}

/** The first secret in a destination's config, or undefined. */
export function findSecretInConfig(config: JsonObject): FoundSecret | undefined {
  return find(config, 'config', false);
}

export const REDACTED = '[redacted: secrets belong in credentials]';

/** The config with every secret value replaced, for configs stored before secrets were refused by value. */
export function redactSecrets(config: JsonObject): JsonObject {
  const redact = (value: JsonValue, inHeaders: boolean): JsonValue => {
    if (typeof value === 'string') return secretInString(value, inHeaders) ? REDACTED : value;
    if (Array.isArray(value)) return value.map((item) => redact(item, inHeaders));
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [
          key,
          SECRET_KEY.test(key) && !LOCATION_KEY.test(key) ? REDACTED : redact(item, inHeaders || /^headers$/i.test(key)),
        ]),
      );
    }
    return value;
  };
  return redact(config, false) as JsonObject;
}
