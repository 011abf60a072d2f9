// Types of the outbox (web/outbox.js, web/outbox/), for the JSDoc annotations of its
// // @ts-check modules. Kept here, outside web/, so phones do not download them: the
// app has no build step, and every comment in web/ is sent to every phone.
// Checked by `npx tsc -p .` (make test).

/** The report payload of the API contract (web/report-payload.js builds it). */
export interface Report {
  /** a UUID made on the device: a resend is recognised by it */
  id: string;
  /** YYYY-MM-DD */
  occurred_on: string;
  /** an area slug */
  area: string;
  incident_types: string[];
  description: string;
  /** filed by an outreach worker for someone else (drop-in mode) */
  on_behalf?: boolean;
  [part: string]: unknown;
}

export type ItemState = 'waiting' | 'parked' | 'sent';
/** Why the last send did not get through. */
export type WaitReason = 'offline' | 'server' | 'busy' | 'auth';
/** Why the server refused an item (it is parked until fixed). */
export type Refusal = 'invalid' | 'conflict' | 'error';

/** One report on this device: an item of the IndexedDB store "reports". */
export interface Item {
  /** the report's id */
  id: string;
  state: ItemState;
  /** the payload; gone once sent (the text leaves the device) */
  report?: Report;
  /** what My reports shows */
  summary: { occurred_on: string; area: string; incident_types: string[] };
  /** ms since the epoch, first saved */
  savedAt: number;
  /** sends tried since it was (re)saved */
  attempts?: number;
  reason?: WaitReason | null;
  /** ms since the epoch, last send tried */
  triedAt?: number;
  result?: Refusal | null;
  /** the server's messages, by field */
  errors?: Record<string, string[]> | null;
  /** the secret that reads the report's status (GET /api/v1/reports/ID/status) */
  receipt?: string;
  /** ms since the epoch, delivered */
  sentAt?: number;
  /** the server's view: received, in_review, published, not_published, or unknown */
  status?: string;
  /** ms since the epoch, status read */
  statusAt?: number;
  /** the project follows this report up (a case): the conversation can be opened */
  hasCase?: boolean;
  /** messages from the project not read yet (a count only, never their content) */
  newMessages?: number;
}

/** What one flush did. */
export interface Outcome {
  /** delivered (created or duplicate) */
  sent: number;
  /** refused by the server */
  parked: number;
  /** items still waiting afterwards */
  waiting: number;
  /** why sending stopped, if it did */
  error: WaitReason | null;
  /** seconds the server asked to wait (Retry-After), if it did */
  retryAfter: number | null;
}

/** Another tab or the service worker was flushing: nothing was done. */
export interface Skipped {
  skipped: true;
}

/** One answer of POST /api/v1/sync, per report, in the request's order. */
export interface SyncResult {
  id: string | null;
  result: 'created' | 'duplicate' | 'invalid' | 'conflict' | 'error';
  receipt?: string;
  errors?: Record<string, string[]>;
  retryable?: boolean;
}
