/** `npm run start:destination`: the destination subgraph as its own process. */
import { startDestinationSubgraph } from '../subgraphs/destination/server.js';
import { runSubgraphMain } from './subgraphMain.js';

await runSubgraphMain('destination', startDestinationSubgraph);
