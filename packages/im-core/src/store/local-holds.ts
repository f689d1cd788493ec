import { stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ensureDir, FILE_MODE } from "./local-fs-errors.ts";

/**
 * Legal holds on a local store, enforced by imvault itself: a held key has an empty marker file at
 * `DATA_DIR/.imvault/holds/objects/<key>`; the store refuses to delete or replace it while the marker is
 * there. (The hold records themselves are archive objects under holds/, sealed by the digests.)
 */
const HOLD_MARKERS = join(".imvault", "holds", "objects");

export function holdMarkerPath(root: string, key: string): string {
  return join(root, HOLD_MARKERS, ...key.split("/"));
}

export async function isHeld(root: string, key: string): Promise<boolean> {
  try {
    return (await stat(holdMarkerPath(root, key))).isFile();
  } catch {
    return false;
  }
}

export async function setHoldMarker(root: string, key: string, on: boolean): Promise<void> {
  const path = holdMarkerPath(root, key);
  if (!on) {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    return;
  }
  await ensureDir(dirname(path));
  await writeFile(path, "", { mode: FILE_MODE });
}
