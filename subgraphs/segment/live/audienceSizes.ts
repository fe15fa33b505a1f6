/**
 * A segment's size as it changes, for dashboards: the current size at once,
 * then the size after changes, at most once per `intervalMs` (4 per second by
 * default) however fast members enter and exit.
 *
 * Sizes are counted from the memberships, which the evaluators write just after
 * the events that announce them; so after a burst of events one more count
 * runs an interval later, and only a size that differs from the last one sent
 * is sent. A subscriber holds one pending size at most: a slow reader gets the
 * latest, never a backlog.
 */
import type { ChangeIterator } from '../../../lib/subgraph/changeStream.js';
import { pullIterator } from '../../../lib/subgraph/pullIterator.js';
import type { LogListener, LogSubscription } from './liveMembershipEvents.repository.js';

export interface AudienceSize {
  segmentId: string;
  size: number;
  at: Date;
}

export interface AudienceSizesDeps {
  log: { join(listener: LogListener): Promise<LogSubscription> };
  /** The segment's current size (REALIZED and EXISTING members). */
  countSize(segmentId: string): Promise<number>;
  now: () => Date;
  /** @default 250 */
  intervalMs?: number;
}

export async function openAudienceSizes(deps: AudienceSizesDeps, segmentId: string): Promise<ChangeIterator<AudienceSize>> {
  const intervalMs = deps.intervalMs ?? 250;
  let latest: AudienceSize | undefined;
  let lastSentSize: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let counting = false;
  /** Changes seen since the last count started. */
  let dirty = false;
  /** Counts still owed after the last change (the settling count). */
  let settle = 0;
  let subscription: LogSubscription | undefined;

  const pull = pullIterator<AudienceSize>({
    take() {
      const value = latest;
      latest = undefined;
      if (value) lastSentSize = value.size;
      return value;
    },
    release() {
      if (timer) clearTimeout(timer);
      subscription?.leave();
    },
  });

  const count = async () => {
    timer = undefined;
    if (pull.isClosed()) return;
    counting = true;
    dirty = false;
    try {
      const size = await deps.countSize(segmentId);
      if (size !== (latest?.size ?? lastSentSize)) latest = { segmentId, size, at: deps.now() };
      pull.wake();
    } catch (error) {
      pull.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    } finally {
      counting = false;
    }
    if (dirty || settle > 0) {
      if (!dirty) settle--;
      schedule();
    }
  };
  const schedule = () => {
    if (pull.isClosed() || timer || counting) return;
    timer = setTimeout(() => void count(), intervalMs);
  };

  subscription = await deps.log.join({
    next(event) {
      if (pull.isClosed() || event.segmentId !== segmentId) return;
      dirty = true;
      settle = 1;
      schedule();
    },
    error: (error) => pull.fail(error),
  });
  // The size now, counted after joining so no change between the two is missed.
  await count();
  return pull.iterator;
}
