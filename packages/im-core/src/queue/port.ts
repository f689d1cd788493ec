/** Where hour jobs go: SQS in AWS and, locally, SQS served by the in-process emulator. */
export interface QueueEntry {
  id: string;
  body: string;
}

export interface SendBatchResult {
  /** Entries the queue did not take; `senderFault` ones will fail again if re-sent unchanged. */
  failed: { id: string; senderFault: boolean; message: string }[];
}

export interface JobQueue {
  /** Sends up to 10 entries (the SQS batch limit). */
  sendBatch(entries: QueueEntry[]): Promise<SendBatchResult>;
}
