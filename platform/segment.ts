/** `npm run start:segment`: the segment subgraph as its own process. */
import { startSegmentSubgraph } from '../subgraphs/segment/server.js';
import { runSubgraphMain } from './subgraphMain.js';

await runSubgraphMain('segment', startSegmentSubgraph);
