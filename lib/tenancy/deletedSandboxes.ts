/**
 * Which sandboxes are deleted, known in every process as soon as the deletion
 * is committed: a change stream on the platform's `sandboxes` collection tells
 * each process, so a deleted sandbox's database is handed out to no request or
 * job from then on, without a database read per request.
 *
 * Nothing may recreate a dropped database: MongoDB creates one on the first
 * write to it, so a write already under way when the sandbox was deleted could.
 * Each process that learns of a deletion therefore drops the database again
 * (harmless when it is gone) at once and once more after `redropAfterMs`, the
 * longest a request or job step that started before could still write; and a
 * process starting up drops the databases of deleted sandboxes that exist.
 */
import { DomainError, ErrorCode } from '../errors.js';
import type { TenancyRepository } from './tenancy.repository.js';

export interface DeletedSandboxesOptions {
  repository: TenancyRepository;
  /** Drops one sandbox's database; a missing one is no error. */
  dropSandbox: (name: string) => Promise<void>;
  /** The sandboxes that have a database now. */
  sandboxesWithDatabase: () => Promise<string[]>;
  /** @default 60 000 ms, the lifetime of the gateway's token that a request in flight carries */
  redropAfterMs?: number;
  /** Runs the second drop after `ms`. @default an unref'd setTimeout */
  later?: (run: () => void, ms: number) => void;
  /** Delay before reopening a failed change stream, doubled up to 5 s. @default 100 ms */
  retryDelayMs?: number;
}

export interface DeletedSandboxes {
  /** Whether the sandbox is known to be deleted. In memory; false until the first load has finished. */
  has(name: string): boolean;
  /** Resolves once the deleted sandboxes are loaded and later deletions are followed. */
  ready(): Promise<void>;
  /** Stops following (the MongoClient's close also stops it). */
  close(): Promise<void>;
}

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * The refusal of any use of a deleted sandbox: its keys no longer work. A class of its own, so
 * code that ends a live connection can say why (a revoked key is refused as UNAUTHENTICATED too).
 */
export class SandboxDeletedError extends DomainError {
  constructor(readonly sandbox: string) {
    super(ErrorCode.Unauthenticated, `The sandbox ${JSON.stringify(sandbox)} was deleted; its API keys no longer work`);
  }
}

export function sandboxDeleted(name: string): SandboxDeletedError {
  return new SandboxDeletedError(name);
}

/** A closed client refuses every operation with MongoNotConnectedError: following ends there. */
const clientClosed = (error: unknown) => error instanceof Error && error.name === 'MongoNotConnectedError';

export function followDeletedSandboxes(options: DeletedSandboxesOptions): DeletedSandboxes {
  const { repository } = options;
  const redropAfterMs = options.redropAfterMs ?? 60_000;
  const later = options.later ?? ((run: () => void, ms: number) => setTimeout(run, ms).unref());
  const deleted = new Set<string>();
  let stopped = false;
  let stream: ReturnType<TenancyRepository['watchSandboxes']> | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const dropQuietly = (name: string) => options.dropSandbox(name).catch(() => {});

  const learn = (name: string) => {
    if (deleted.has(name)) return;
    deleted.add(name);
    void dropQuietly(name);
    later(() => void (stopped ? undefined : dropQuietly(name)), redropAfterMs);
  };

  const load = async (initial: boolean) => {
    const names = await repository.listDeletedSandboxNames();
    if (initial) {
      // Whatever a stopped process left behind: databases recreated after their sandbox was deleted.
      const leftOver = new Set(names);
      for (const name of await options.sandboxesWithDatabase()) if (leftOver.has(name)) await dropQuietly(name);
      for (const name of names) deleted.add(name);
    } else {
      names.forEach(learn);
    }
  };

  const follow = async () => {
    let delay = options.retryDelayMs ?? 100;
    let initial = true;
    while (!stopped) {
      try {
        stream = repository.watchSandboxes();
        // The first tryNext opens the cursor: no deletion committed after this is missed by the load below.
        let change = await stream.tryNext();
        await load(initial);
        initial = false;
        markReady();
        delay = options.retryDelayMs ?? 100;
        while (!stopped) {
          const id = change && 'documentKey' in change ? change.documentKey._id : undefined;
          if (typeof id === 'string' && !deleted.has(id) && (await repository.isSandboxDeleted(id))) learn(id);
          change = await stream.next();
        }
      } catch (error) {
        await stream?.close().catch(() => {});
        if (stopped || clientClosed(error)) break;
        // Without change streams (a standalone server) this loop still reloads the list on each retry.
        await load(initial).then(
          () => {
            initial = false;
            markReady();
          },
          () => {},
        );
        await new Promise<void>((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
    markReady();
  };
  void follow();

  return {
    has: (name) => deleted.has(name),
    ready: () => ready,
    async close() {
      stopped = true;
      await stream?.close().catch(() => {});
      markReady();
    },
  };
}
