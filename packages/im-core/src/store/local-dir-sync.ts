/** Directory fsyncs: what makes a new name in a directory (a link, a rename) survive a power loss. */
import { open } from "node:fs/promises";

/** Directory fsyncs at the same time: the file system commits them together. */
const DIR_SYNC_CONCURRENCY = 16;

export async function syncDirs(dirs: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < dirs.length) await syncDir(dirs[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(DIR_SYNC_CONCURRENCY, dirs.length) }, worker));
}

/** Makes a rename durable; some platforms cannot open a directory, which only costs durability. */
export async function syncDir(path: string): Promise<void> {
  try {
    const dir = await open(path, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Best effort.
  }
}
