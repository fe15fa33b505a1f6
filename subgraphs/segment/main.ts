/** `tsx subgraphs/segment/main.ts`: the segment subgraph as its own process. */
import { runSubgraphMain } from '../../lib/subgraph/main.js';
import { startSegmentSubgraph } from './server.js';

await runSubgraphMain('segment', startSegmentSubgraph);
