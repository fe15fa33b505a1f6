/** `tsx subgraphs/profile/main.ts`: the profile subgraph as its own process. */
import { runSubgraphMain } from '../../lib/subgraph/main.js';
import { startProfileSubgraph } from './server.js';

await runSubgraphMain('profile', startProfileSubgraph);
