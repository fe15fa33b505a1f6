/**
 * The sources benchmark's mocks in a process of their own, so the platform being
 * measured does not pay for making the mocks' rows and export files. Started by
 * mockChild.ts with the scale and the leads' createdAt as arguments; answers over
 * the IPC channel: `ready` with the mocks' URLs, then `changed` after each
 * `changeLead` and `state` (the call counts) when asked.
 */
import { sourceSpecs, rowsOf } from './specs.js';
import { startBenchMarketo, startBenchSalesforce } from './mockSources.js';
import type { MockRequest, MockResponse } from './mockChild.js';

const [scaleArg, createdAtArg] = process.argv.slice(2);
const specs = sourceSpecs(Number(scaleArg));
const marketo = await startBenchMarketo(rowsOf(specs.marketo.leads), rowsOf(specs.marketo.activities), new Date(createdAtArg!));
const salesforce = await startBenchSalesforce({ Account: rowsOf(specs.salesforce.Account), Contact: rowsOf(specs.salesforce.Contact) });

const reply = (message: MockResponse) => process.send!(message);
process.on('message', (message: MockRequest) => {
  if (message.kind === 'changeLead') {
    marketo.changeLead(message.id, message.fields);
    reply({ kind: 'changed', id: message.id });
  } else if (message.kind === 'state') {
    reply({ kind: 'state', marketo: marketo.state, salesforce: salesforce.state });
  }
});
// The parent gone (or stopping us), the servers close and the process ends.
process.on('disconnect', () => void Promise.all([marketo.close(), salesforce.close()]).then(() => process.exit(0)));
reply({ kind: 'ready', marketo: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl }, salesforce: { url: salesforce.url } });
