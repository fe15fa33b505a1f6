/**
 * Where Agenda keeps jobs, in the platform database: the worker processes them;
 * subgraphs that start jobs (imports) only write them there.
 */
export const JOBS_COLLECTION = 'agendaJobs';
