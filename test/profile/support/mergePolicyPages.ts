/** Where the killed-worker test's workers record their pages (see mergePolicyWorker.ts), and their page size. */
export const PAGES_COLLECTION = 'testPages';
export const WORKER_PAGE_SIZE = 25;
