/**
 * Marketo's Bulk Extract API for full loads: create an export job for one date
 * range (at most 31 days), enqueue it, poll its status until Completed, then
 * download its CSV file. Marketo runs at most 2 exports at once and queues at
 * most 10 per instance; enqueueing beyond that answers 1029, and the job waits
 * and tries again rather than failing the sync.
 */
import { ConnectorFailure } from '../../../../../lib/connectors/failures.js';
import { isRecord } from '../../../../../lib/connectors/http.js';
import type { MarketoClient } from '../../../../../lib/marketo/marketoClient.js';
import { pollUntil, type SourceConnectorDeps } from '../sourceConnector.js';

export type ExportKind = 'leads' | 'activities';

/** Marketo refuses a longer createdAt range. */
export const MAX_EXPORT_DAYS = 31;
/** How long to wait before enqueueing again when the instance's export queue is full. */
const QUEUE_FULL_WAIT_MS = 30_000;

export interface ExportRequest {
  kind: ExportKind;
  startAt: Date;
  endAt: Date;
  /** Leads: the fields (columns) to export. */
  fields?: readonly string[];
  /** Activities: the activity types to export. */
  activityTypeIds?: readonly number[];
}

export class BulkExtract {
  constructor(
    private readonly client: MarketoClient,
    private readonly deps: SourceConnectorDeps,
  ) {}

  /** Creates and enqueues an export; returns its id. */
  async start(request: ExportRequest): Promise<string> {
    const filter: Record<string, unknown> = { createdAt: { startAt: request.startAt.toISOString(), endAt: request.endAt.toISOString() } };
    if (request.activityTypeIds) filter.activityTypeIds = request.activityTypeIds;
    const created = await this.client.call({
      method: 'POST',
      api: 'bulk',
      path: `/v1/${request.kind}/export/create.json`,
      json: { format: 'CSV', filter, ...(request.fields ? { fields: request.fields } : {}) },
    });
    const exportId = exportIdOf(created.result[0]);
    for (;;) {
      try {
        await this.client.call({ method: 'POST', api: 'bulk', path: `/v1/${request.kind}/export/${exportId}/enqueue.json` });
        return exportId;
      } catch (error) {
        if (!(error instanceof ConnectorFailure) || error.code !== 'MARKETO_1029') throw error;
        this.deps.logger.info({ exportId }, 'Marketo export queue full; waiting to enqueue');
        await this.deps.sleep(QUEUE_FULL_WAIT_MS);
      }
    }
  }

  /** Waits for the export to complete and returns its file's CSV text. */
  async file(kind: ExportKind, exportId: string): Promise<string> {
    await pollUntil(async () => {
      const answer = await this.client.call({ method: 'GET', api: 'bulk', path: `/v1/${kind}/export/${exportId}/status.json` });
      const status = isRecord(answer.result[0]) ? answer.result[0].status : undefined;
      if (status === 'Failed' || status === 'Cancelled') {
        const reason = isRecord(answer.result[0]) && typeof answer.result[0].errorMsg === 'string' ? `: ${answer.result[0].errorMsg}` : '';
        throw new ConnectorFailure('MARKETO_EXPORT_FAILED', `Marketo export ${exportId} ended ${String(status)}${reason}`, true);
      }
      return status === 'Completed';
    }, this.deps);
    return this.client.download({ method: 'GET', api: 'bulk', path: `/v1/${kind}/export/${exportId}/file.json` });
  }
}

function exportIdOf(result: unknown): string {
  if (isRecord(result) && typeof result.exportId === 'string') return result.exportId;
  throw new ConnectorFailure('MARKETO_BAD_RESPONSE', 'Marketo created an export without answering its exportId', true);
}
