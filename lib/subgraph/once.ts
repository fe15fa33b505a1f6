/**
 * Runs set-up work (index creation) once per key per process, e.g. once per
 * sandbox database; a failure is forgotten so the next caller retries.
 */
export function oncePerKey(): (key: string, work: () => Promise<unknown>) => Promise<void> {
  const done = new Map<string, Promise<void>>();
  return (key, work) => {
    let pending = done.get(key);
    if (!pending) {
      pending = work().then(
        () => undefined,
        (error: unknown) => {
          done.delete(key);
          throw error;
        },
      );
      done.set(key, pending);
    }
    return pending;
  };
}
