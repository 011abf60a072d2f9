// @ts-check
// What became of each sent report: the server's status, read with the report's receipt
// (GET /api/v1/reports/ID/status, header X-Receipt). No account, no member token needed.
import { api } from '../api.js';
import * as items from './items.js';

/**
 * Read the status of every sent report that has a receipt; failures are left for the
 * next time. A report the server does not know (any more) reads as "unknown".
 * @returns {Promise<void>}
 */
export async function refreshStatuses() {
  let any = false;
  await Promise.all((await items.sentWithReceipt()).map(async ({ id, receipt = '' }) => {
    let response;
    try {
      response = await api(`/api/v1/reports/${encodeURIComponent(id)}/status`,
        { headers: { 'X-Receipt': receipt } });
    } catch {
      return;
    }
    const status = response.status === 200 && response.data ? response.data.status
      : response.status === 404 ? 'unknown' : null;
    if (!status) return;
    any = true;
    const data = response.status === 200 && response.data ? response.data : {};
    await items.setStatus(id, status, {
      hasCase: Boolean(data.has_case), newMessages: Number(data.new_messages) || 0 });
  }));
  if (any) items.changed();
}
