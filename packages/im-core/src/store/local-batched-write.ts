/** How the local store writes a streamed body to its temp file: batched writes, syncs along the way. */

/**
 * Chunks are gathered and written with one `writev` per WRITE_BATCH_BYTES, the next batch gathering
 * while the previous one is written. A download arrives in small chunks, and every fs/promises call
 * has a fixed cost on the calling thread (the main one), so writing chunk by chunk cost several times
 * the main-thread CPU of batched writes (bench/README.md, "Local store"). Memory stays at two
 * batches: awaiting the write in flight before starting the next is the backpressure.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Bytes written between two fdatasyncs started in the background while the file is still arriving,
 * so that the fsync at the end, which the file's commit waits for, has at most this much left to
 * flush (bench/README.md, "Local store").
 */
const SYNC_EVERY_BYTES = 4 * 1024 * 1024;

/** The part of a FileHandle that writeInBatches uses. */
interface BatchWriter {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
}

/** Exported for its tests. */
export async function writeInBatches(
  file: BatchWriter,
  body: AsyncIterable<unknown>,
  syncEveryBytes = SYNC_EVERY_BYTES,
): Promise<number> {
  let size = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let unsynced = 0;
  let writing: Promise<unknown> = Promise.resolve();
  // The background fdatasyncs, chained: a failed one fails the put at the end (and starts no more).
  let syncing: Promise<unknown> = Promise.resolve();
  let syncInFlight = false;
  for await (const chunk of body) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Buffer);
    batch.push(bytes);
    batchBytes += bytes.length;
    size += bytes.length;
    if (batchBytes >= WRITE_BATCH_BYTES) {
      await writing;
      writing = writeAll(file, batch);
      // Its failure is thrown by the next `await writing`; until then it must not count as unhandled.
      writing.catch(() => {});
      unsynced += batchBytes;
      if (unsynced >= syncEveryBytes && !syncInFlight) {
        // Once this batch is written; the next ones are written meanwhile.
        syncInFlight = true;
        syncing = Promise.all([syncing, writing.then(() => file.datasync())]).then(() => {
          syncInFlight = false;
        });
        syncing.catch(() => {});
        unsynced = 0;
      }
      batch = [];
      batchBytes = 0;
    }
  }
  await writing;
  if (batch.length > 0) await writeAll(file, batch);
  await syncing;
  return size;
}

/** One writev may write less than it was given (it is one system call): write the rest until done. */
async function writeAll(file: BatchWriter, buffers: Buffer[]): Promise<void> {
  let left = buffers;
  for (;;) {
    const { bytesWritten } = await file.writev(left);
    let skip = bytesWritten;
    while (left.length > 0 && skip >= left[0]!.length) skip -= left.shift()!.length;
    if (left.length === 0) return;
    if (bytesWritten === 0) throw new Error("writev wrote nothing");
    left = [left[0]!.subarray(skip), ...left.slice(1)];
  }
}
