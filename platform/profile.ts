/** `npm run start:profile`: the profile subgraph as its own process. */
import { startProfileSubgraph } from '../subgraphs/profile/server.js';
import { runSubgraphMain } from './subgraphMain.js';

await runSubgraphMain('profile', startProfileSubgraph);
