/** `npm run start:segment`: the segment subgraph as its own process. */
import { startSegmentSubgraph } from '../subgraphs/segment/server.js';
import { runPart } from './runPart.js';

await runPart('segment subgraph', 'it keeps its data there', ({ config, logger, databases }) =>
  startSegmentSubgraph({ databases, security: config.security, port: config.ports.segment, host: config.host, logger }),
);
