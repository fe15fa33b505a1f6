import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the MongoDB found by test/globalSetup.ts. */
    mongoUri: string;
    /** Which kind it is: a real deployment, mongodb-memory-server or devdb. */
    mongoSource: 'uri' | 'memory-server' | 'devdb';
  }
}
