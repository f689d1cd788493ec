import { NotFoundError } from "../../errors.ts";
import type { CopiedFile } from "../../store/port.ts";
import { type ExportMedia, mediaExportPath } from "../media.ts";
import type { ExportDir } from "../output.ts";

/**
 * Copies captured media into the export at their archive keys (`media/{host}/{path}`), once however
 * many messages hold them. Copying is how jsonl and html learn that the archive has a medium's bytes
 * (MediaPresence): one open of the object, not a look-up and then a read.
 */
export class MediaCopier {
  readonly #dir: ExportDir;
  readonly #copy: (media: ExportMedia, path: string) => Promise<CopiedFile>;
  readonly #onBytes: (n: number) => void;
  readonly #copies = new Map<string, Promise<boolean>>();

  constructor(
    dir: ExportDir,
    copy: (media: ExportMedia, path: string) => Promise<CopiedFile>,
    onBytes: (n: number) => void,
  ) {
    this.#dir = dir;
    this.#copy = copy;
    this.#onBytes = onBytes;
  }

  /** Copies the medium (once): whether the archive had its bytes. Fails if they differ from its record. */
  copy(media: ExportMedia): Promise<boolean> {
    const path = mediaExportPath(media);
    let copied = this.#copies.get(path);
    if (copied === undefined) {
      copied = this.#copyOne(path, media);
      this.#copies.set(path, copied);
    }
    return copied;
  }

  async #copyOne(path: string, media: ExportMedia): Promise<boolean> {
    try {
      const file = await this.#dir.add(path, (full) => this.#copy(media, full));
      this.#onBytes(file.size);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }
}
