/** A subscription's upstream that a test feeds by hand, for the gateway's sharing layers. */
import type { ExecutionResult } from 'graphql';

export interface FakeUpstream {
  push(result: ExecutionResult): void;
  readonly returned: boolean;
  readonly iterator: AsyncIterableIterator<ExecutionResult>;
}

export function fakeUpstream(): FakeUpstream {
  const values: ExecutionResult[] = [];
  let waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  let returned = false;
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    next() {
      if (values.length > 0) return Promise.resolve({ value: values.shift()!, done: false });
      if (returned) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      returned = true;
      waiting?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    iterator,
    push(result) {
      const resolve = waiting;
      waiting = undefined;
      if (resolve) resolve({ value: result, done: false });
      else values.push(result);
    },
    get returned() {
      return returned;
    },
  };
}

export const membershipEvent = (cursor: string): ExecutionResult => ({ data: { segmentMembershipChanged: { cursor } } });

/** The iterator a subscriber got, failing the test when it got a single result instead. */
export function stream(value: AsyncIterableIterator<ExecutionResult> | ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  if (!(Symbol.asyncIterator in value)) throw new Error('expected a stream');
  return value;
}
