/** Text to checked segment: parse, check against the data model, print canonically. */
import { checkSegment } from './checker.js';
import type { CheckedSegment, CheckOptions } from './index.js';
import { parseSegment } from './parser.js';
import { printSegment } from './printer.js';
import { isTimeDependent } from './timing.js';

/** Parses and checks against the data model; throws SegmentLanguageError. */
export function compileSegment(text: string, options: CheckOptions): CheckedSegment {
  const expr = parseSegment(text);
  const dependsOn = checkSegment(expr, options);
  return { expr, canonical: printSegment(expr), dependsOn, timeDependent: isTimeDependent(expr) };
}
