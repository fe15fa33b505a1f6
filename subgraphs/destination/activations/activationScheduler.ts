/**
 * Scheduled activations as Agenda jobs: one repeating `deliverActivation` job
 * per activation on its cron (UTC), written to the worker's job collection by
 * the destination subgraph, which never runs them. Writing is idempotent per
 * activation (a unique job); deactivating cancels it.
 */
import { CronExpressionParser } from 'cron-parser';
import { badInput } from '../../../lib/errors.js';
import { jobWriter } from '../../../lib/jobs.js';
import type { Databases } from '../../../lib/mongo/databases.js';

export const DELIVER_ACTIVATION_JOB_NAME = 'deliverActivation';
export const STREAMING_SCHEDULE = 'STREAMING';
/** A scheduled activation runs at most this often; more often, use STREAMING. */
export const MIN_SCHEDULE_INTERVAL_MS = 5 * 60_000;

export interface DeliverActivationPayload {
  sandbox: string;
  activationId: string;
}

/** `STREAMING`, or a five-field cron expression normalised; BAD_USER_INPUT says what is wrong. */
export function parseSchedule(raw: string, at: Date): string {
  const text = raw.trim().replace(/\s+/g, ' ');
  if (text.toUpperCase() === STREAMING_SCHEDULE) return STREAMING_SCHEDULE;
  if (text.split(' ').length !== 5) {
    throw badInput('schedule must be "STREAMING" or a cron expression of five fields (minute hour day-of-month month day-of-week, UTC), e.g. "0 6 * * *"', { field: 'schedule' });
  }
  let first: Date;
  let second: Date;
  try {
    const expression = CronExpressionParser.parse(text, { currentDate: at, tz: 'UTC' });
    first = expression.next().toDate();
    second = expression.next().toDate();
  } catch (error) {
    throw badInput(`schedule is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`, { field: 'schedule' });
  }
  if (second.getTime() - first.getTime() < MIN_SCHEDULE_INTERVAL_MS) {
    throw badInput('A scheduled activation may run at most every 5 minutes; use "STREAMING" to deliver changes as they happen', { field: 'schedule' });
  }
  return text;
}

/** Where the destination subgraph writes and cancels activation jobs. */
export interface ActivationScheduling {
  /** The repeating job on `cron`, and one run now (the backfill). */
  schedule(sandbox: string, activationId: string, cron: string): Promise<void>;
  /** One run now, e.g. after dead letters are re-driven. */
  runNow(sandbox: string, activationId: string): Promise<void>;
  cancel(sandbox: string, activationId: string): Promise<void>;
}


export function agendaActivationScheduling(databases: Databases): ActivationScheduling {
  const unique = (payload: DeliverActivationPayload, once: boolean) => ({ 'data.sandbox': payload.sandbox, 'data.activationId': payload.activationId, 'data.once': once });
  return {
    async schedule(sandbox, activationId, cron) {
      const agenda = await jobWriter(databases);
      const payload = { sandbox, activationId, once: false };
      await agenda.create(DELIVER_ACTIVATION_JOB_NAME, payload).repeatEvery(cron, { timezone: 'UTC', skipImmediate: true }).unique(unique(payload, false)).save();
      await this.runNow(sandbox, activationId);
    },
    async runNow(sandbox, activationId) {
      const agenda = await jobWriter(databases);
      const payload = { sandbox, activationId, once: true };
      // One pending "now" run per activation: asking again while it waits changes nothing.
      await agenda.create(DELIVER_ACTIVATION_JOB_NAME, payload).unique(unique(payload, true)).schedule(new Date()).save();
    },
    async cancel(sandbox, activationId) {
      const agenda = await jobWriter(databases);
      // Matched field by field: the repeating job and a pending run now.
      await agenda.cancel({ name: DELIVER_ACTIVATION_JOB_NAME, data: { sandbox, activationId } });
    },
  };
}
