/**
 * Source keys: `<sourceId>@<sourceInstanceId>.<sourceType>`, as Adobe's B2B
 * edition keys every record from a source, e.g.
 * `00Q5e00000AbCdE@00D5e000001XyZ.Salesforce` or `1234@123-ABC-456.Marketo`.
 * Two instances of the same source never collide, because the instance is part
 * of the key.
 */
import { badInput } from '../errors.js';

export interface SourceKey {
  sourceId: string;
  instanceId: string;
  sourceType: string;
}

/** sourceId: anything but `@`; instance: letters, digits, `-` and `_`; type: a word. */
const SOURCE_KEY_PATTERN = /^([^@\s]{1,200})@([A-Za-z0-9_-]{1,100})\.([A-Za-z][A-Za-z0-9_]{0,49})$/;

export function formatSourceKey(key: SourceKey): string {
  return `${key.sourceId}@${key.instanceId}.${key.sourceType}`;
}

export function parseSourceKey(value: string): SourceKey {
  const match = SOURCE_KEY_PATTERN.exec(value);
  if (!match) {
    throw badInput(
      `Invalid source key ${JSON.stringify(value.slice(0, 120))}: use "<sourceId>@<instanceId>.<sourceType>", e.g. "1234@123-ABC-456.Marketo"`,
      { field: 'sourceKey' },
    );
  }
  return { sourceId: match[1]!, instanceId: match[2]!, sourceType: match[3]! };
}

export function isSourceKey(value: string): boolean {
  return SOURCE_KEY_PATTERN.test(value);
}
