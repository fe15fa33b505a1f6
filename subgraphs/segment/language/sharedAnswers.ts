/**
 * Answers about one member (a scope) at one time, shared by every segment compiled in this
 * process that asks the same question (a relation and condition, named by their printed text):
 * segments often count or look for the same events with different thresholds or beside other
 * conditions. Each shared question remembers its answer for the last scope and time, so
 * evaluating one member for all of a sandbox's segments, one after another, answers it once.
 * Bounded; a question evicted is built again when next compiled.
 */
import { LRUCache } from 'lru-cache';
import type { Scope } from './values.js';

export type Question = (scope: Scope, now: number) => number;

const questions = new LRUCache<string, Question>({ max: 20_000 });

/** The shared question named `key`, built by `build` the first time, answering again for the same scope and time. */
export function sharedQuestion(key: string, build: () => Question): Question {
  let shared = questions.get(key);
  if (!shared) {
    const ask = build();
    let lastScope: Scope | null = null;
    let lastNow = Number.NaN;
    let last = 0;
    shared = (scope, now) => {
      if (scope !== lastScope || now !== lastNow) {
        last = ask(scope, now);
        lastScope = scope;
        lastNow = now;
      }
      return last;
    };
    questions.set(key, shared);
  }
  return shared;
}
