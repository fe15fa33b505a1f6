/**
 * The nightly evaluation schedule of a sandbox: a five-field cron expression read
 * in UTC, `0 2 * * *` (02:00 UTC) unless the sandbox sets another. The evaluation
 * sweep starts a run when the cron's latest due time is after the last one a run
 * was started for.
 */
import { CronExpressionParser } from 'cron-parser';
import type { Db } from 'mongodb';
import { badInput } from '../../../lib/errors.js';
import { SegmentSettingsRepository } from '../memberships/segmentSettings.repository.js';

export const DEFAULT_EVALUATION_CRON = '0 2 * * *';
/** Batch evaluation reads every member of every segment: at most once an hour. */
export const MIN_EVALUATION_INTERVAL_MS = 60 * 60_000;

export interface EvaluationSchedule {
  cron: string;
  timezone: 'UTC';
  /** The next time a nightly run is due. */
  nextRunAt: Date;
  /** The latest due time a run was started for; null before the first. */
  lastDueAt: Date | null;
}

function parse(cron: string, at: Date) {
  return CronExpressionParser.parse(cron, { currentDate: at, tz: 'UTC' });
}

/** The latest time at or before `at` when the cron is due. */
export function latestDueAt(cron: string, at: Date): Date {
  // prev() is strictly before its start; start a millisecond later so a due time equal to `at` counts.
  return parse(cron, new Date(at.getTime() + 1)).prev().toDate();
}

export function nextDueAt(cron: string, at: Date): Date {
  return parse(cron, at).next().toDate();
}

/** Validates a cron for the nightly schedule; throws BAD_USER_INPUT naming what is wrong. */
export function validateEvaluationCron(cron: string, at: Date): string {
  const text = cron.trim().replace(/\s+/g, ' ');
  if (text.split(' ').length !== 5) {
    throw badInput('The evaluation schedule must be a cron expression of five fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *"', { field: 'cron' });
  }
  let first: Date;
  let second: Date;
  try {
    const expression = parse(text, at);
    first = expression.next().toDate();
    second = expression.next().toDate();
  } catch (error) {
    throw badInput(`The evaluation schedule is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`, { field: 'cron' });
  }
  if (second.getTime() - first.getTime() < MIN_EVALUATION_INTERVAL_MS) {
    throw badInput('The evaluation schedule may run at most once an hour', { field: 'cron' });
  }
  return text;
}

/** The sandbox's schedule (the default when it has never set one). */
export async function getEvaluationSchedule(db: Db, now: Date): Promise<EvaluationSchedule> {
  const stored = await new SegmentSettingsRepository(db).getSchedule();
  const cron = stored?.cron ?? DEFAULT_EVALUATION_CRON;
  return { cron, timezone: 'UTC', nextRunAt: nextDueAt(cron, now), lastDueAt: stored?.lastDueAt ?? null };
}

/**
 * Sets the sandbox's schedule. The next run is the new cron's next due time: a time
 * already passed today does not start a run at once.
 */
export async function setEvaluationSchedule(db: Db, cron: string, now: Date): Promise<EvaluationSchedule> {
  const text = validateEvaluationCron(cron, now);
  await new SegmentSettingsRepository(db).setCron(text, now, latestDueAt(text, now));
  return getEvaluationSchedule(db, now);
}
