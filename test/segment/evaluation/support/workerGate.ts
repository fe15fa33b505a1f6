/** Where a gated test worker records that it stopped (see evaluationWorker.ts). */
export const GATES_COLLECTION = 'testGates';
