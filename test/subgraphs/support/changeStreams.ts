/**
 * Waits until a subgraph has opened `count` change streams on databases whose
 * name ends with `databaseSuffix`: a subscription only hears changes made
 * after its stream is open, so tests wait for that instead of sleeping.
 * The client must have been created with `monitorCommands: true`.
 */
import type { CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';

export function changeStreamsOpened(client: MongoClient, databaseSuffix: string, count = 1, timeoutMs = 10_000): Promise<void> {
  const pending = new Set<number>();
  let opened = 0;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${opened} of ${count} change streams opened on *${databaseSuffix} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onStarted = (event: CommandStartedEvent) => {
      const pipeline = (event.command as { pipeline?: Array<Record<string, unknown>> }).pipeline;
      if (event.commandName === 'aggregate' && event.databaseName.endsWith(databaseSuffix) && pipeline?.[0]?.$changeStream) {
        pending.add(event.requestId);
      }
    };
    const onSucceeded = (event: CommandSucceededEvent) => {
      if (!pending.delete(event.requestId)) return;
      opened += 1;
      if (opened >= count) {
        stop();
        resolve();
      }
    };
    const stop = () => {
      clearTimeout(timer);
      client.off('commandStarted', onStarted);
      client.off('commandSucceeded', onSucceeded);
    };
    client.on('commandStarted', onStarted);
    client.on('commandSucceeded', onSucceeded);
  });
}
