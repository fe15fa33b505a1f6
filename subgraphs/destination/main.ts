/** `tsx subgraphs/destination/main.ts`: the destination subgraph as its own process. */
import { runSubgraphMain } from '../../lib/subgraph/main.js';
import { startDestinationSubgraph } from './server.js';

await runSubgraphMain('destination', startDestinationSubgraph);
