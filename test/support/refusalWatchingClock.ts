/**
 * A clock for MembershipEventsRepository that tells when an append found the event log held by
 * another process. The log's lock reads the clock once per try, so a second read after `refusal()`
 * means the first try was refused and the append waits to try again.
 */
export function refusalWatchingClock(initial: Date) {
  let current = initial;
  let reads = 0;
  let refused: () => void = () => undefined;
  return {
    now: (): Date => {
      if (++reads === 2) refused();
      return current;
    },
    set(time: Date): void {
      current = time;
    },
    /** Resolves to 'refused' once the next append has been refused at the lock; call it just before that append. */
    refusal(): Promise<'refused'> {
      reads = 0;
      return new Promise((resolve) => (refused = () => resolve('refused')));
    },
  };
}
