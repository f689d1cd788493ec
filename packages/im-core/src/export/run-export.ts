/**
 * An export for review (docs/export.md): the messages an export request selects from the message
 * table, sliced by conversation and Beijing day, written in one format with their media copied from
 * the archive, and export-manifest.json written last; the directory appears under `out` only once
 * everything is written. Rows stream from the table; each slice is written as its rows arrive.
 */
import { ValidationError } from "../errors.ts";
import { findHeadSeq, readDigest } from "../evidence/digest-file.ts";
import { digestKey } from "../evidence/layout.ts";
import { EXPORT_LIMITS } from "../schemas/limits.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourStart } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";
import { EXPORT_MANIFEST, type ExportManifest } from "./manifest.ts";
import { copyMedia, type ExportMedia, MediaResolver } from "./media.ts";
import { ExportDir } from "./output.ts";
import { type ExportRequest, exportSubject } from "./request.ts";
import { makeSlice, partsByKey, sliceKey } from "./slices.ts";
import type { ExportRow, ExportSource } from "./source.ts";
import { MediaCopier } from "./writers/copy-media.ts";
import { htmlWriter } from "./writers/html.ts";
import { jsonlWriter } from "./writers/jsonl.ts";
import { rsmfWriter } from "./writers/rsmf.ts";
import type { Slice, SliceWriter, WriterContext } from "./writers/types.ts";

export interface ExportDeps {
  store: ArchiveStore;
  source: ExportSource;
  clock: Clock;
}

export interface ExportProgress {
  /** Once the slices are known: how many, and how many messages. */
  planned?(slices: number, messages: number): void;
  /** A slice is written. */
  slice?(file: string, messages: number): void;
  /** Media bytes copied. */
  bytes?(n: number): void;
}

export interface ExportOptions {
  request: ExportRequest;
  out: string;
  requestedBy: string;
  generator: string;
  progress?: ExportProgress;
  signal?: AbortSignal;
  /** Default EXPORT_LIMITS.maxEventsPerSlice. */
  maxEventsPerSlice?: number;
}

export async function runExport(deps: ExportDeps, options: ExportOptions): Promise<ExportManifest> {
  const { request } = options;
  const maxEvents = options.maxEventsPerSlice ?? EXPORT_LIMITS.maxEventsPerSlice;
  // `--out` first: an export that cannot be written asks the table nothing.
  const dir = await ExportDir.create(options.out);
  // Rows whose media are being resolved (and, for jsonl and html, copied) ahead of the one written.
  const ahead: { row: ExportRow; media: Promise<ExportMedia[]> }[] = [];
  try {
    await checkWindow(deps.source, request);
    const counts = await deps.source.counts();
    const total = counts.reduce((n, c) => n + c.messages, 0);
    const parts = partsByKey(counts, maxEvents);
    options.progress?.planned?.(
      [...parts.values()].reduce((n, p) => n + p, 0),
      total,
    );
    const createdAt = new Date(deps.clock.now()).toISOString();
    const head = await chainHead(deps.store);

    const stats = { copied: 0, bytes: 0 };
    const banned = new Map<string, string>();
    const copiedKeys = new Set<string>();
    const missing = new Map<string, { rawUrl: string; status: string; reason?: string }>();
    const onBytes = (n: number) => {
      stats.bytes += n;
      options.progress?.bytes?.(n);
    };
    const copier = new MediaCopier(dir, (m, path) => copyMedia(deps.store, m, path), onBytes);
    // rsmf zips the media itself, and learns then whether the store has them.
    const presence = request.format === "rsmf" ? async () => true : (m: ExportMedia) => copier.copy(m);
    const media = new MediaResolver(deps.store, EXPORT_LIMITS.mediaManifestCache, presence);
    const ctx: WriterContext = { dir, media, request, generator: options.generator, onBytes };
    const writer = writerFor(request.format, ctx);
    const written: { slice: Slice; file: string; messages: number }[] = [];
    let current: { key: string; slice: Slice; messages: number; index: number } | undefined;
    // The current slice's media, counted once it is written: rsmf learns only then which are absent.
    let sliceMedia: ExportMedia[] = [];
    const endSlice = async () => {
      if (current === undefined) return;
      const file = await writer.end();
      for (const m of sliceMedia) {
        if (m.status !== "captured") {
          missing.set(m.rawUrl, {
            rawUrl: m.rawUrl,
            status: m.status,
            ...(m.reason === undefined ? {} : { reason: m.reason }),
          });
        } else {
          copiedKeys.add(m.key!);
          if (m.banned) banned.set(m.rawUrl, m.key!);
        }
      }
      sliceMedia = [];
      written.push({ slice: current.slice, file, messages: current.messages });
      options.progress?.slice?.(file, current.messages);
    };
    let seen = 0;
    const write = async ({ row, media: pending }: (typeof ahead)[number]) => {
      const key = sliceKey(row.dt, row.chat_type, row.conversation);
      const index = current?.key === key ? current.index + 1 : 0;
      const part = Math.floor(index / maxEvents) + 1;
      if (current?.key !== key || current.slice.part !== part) {
        await endSlice();
        const slice = makeSlice(row.dt, row.chat_type, row.conversation, part, parts.get(key) ?? part);
        current = { key, slice, messages: 0, index };
        await writer.begin(slice);
      }
      current.index = index;
      current.messages++;
      seen++;
      const resolved = await pending;
      sliceMedia.push(...resolved);
      const at = row.msg_timestamp === null ? hourStart(row.msg_time) : row.msg_timestamp * 1000;
      await writer.message({ row, at, media: resolved });
    };
    for await (const batch of deps.source.rows()) {
      options.signal?.throwIfAborted();
      for (const row of batch) {
        const pending = media.resolve(row);
        // Awaited in turn by `write`; until then a failure must not count as unhandled.
        pending.catch(() => {});
        ahead.push({ row, media: pending });
        if (ahead.length > EXPORT_LIMITS.mediaCopyConcurrency) await write(ahead.shift()!);
      }
    }
    while (ahead.length > 0) await write(ahead.shift()!);
    await endSlice();
    if (seen !== total) {
      throw new ValidationError(
        `the message table changed during the export (${seen} rows read, ${total} counted): run it again`,
      );
    }
    await writer.finish(written);
    stats.copied = copiedKeys.size;

    const manifest: ExportManifest = {
      version: 1,
      request,
      requestedBy: options.requestedBy,
      createdAt,
      generator: options.generator,
      digestChainHead: head,
      ...(total === 0 ? { note: emptyNote(request) } : {}),
      messages: total,
      slices: written.map(({ slice, file, messages }) => ({
        file,
        dt: slice.dt,
        chatType: slice.chatType,
        conversation: slice.conversation,
        part: slice.part,
        parts: slice.parts,
        messages,
      })),
      media: {
        ...stats,
        banned: [...banned].map(([rawUrl, key]) => ({ rawUrl, key })),
        missing: [...missing.values()],
      },
      files: [...dir.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    };
    const sink = await dir.open(EXPORT_MANIFEST);
    await sink.write(`${JSON.stringify(manifest, null, 2)}\n`);
    await sink.close();
    options.signal?.throwIfAborted();
    await dir.commit();
    return manifest;
  } catch (error) {
    // Copies under way finish (or fail) before their directory is removed.
    await Promise.allSettled(ahead.map((a) => a.media));
    await dir.abort();
    throw error;
  }
}

function writerFor(format: ExportRequest["format"], ctx: WriterContext): SliceWriter {
  if (format === "jsonl") return jsonlWriter(ctx);
  if (format === "html") return htmlWriter(ctx);
  return rsmfWriter(ctx);
}

function emptyNote(request: ExportRequest): string {
  const window =
    request.from === undefined && request.to === undefined
      ? "the archive"
      : `${request.from ?? "the start"}..${request.to ?? "the end"} (Beijing time)`;
  return `the message table holds no message of ${exportSubject(request)} in ${window}`;
}

/** A window wholly before or after what the table holds is a mistake, not an empty export. */
async function checkWindow(source: ExportSource, request: ExportRequest): Promise<void> {
  if (request.from === undefined && request.to === undefined) return;
  const extent = await source.extent();
  if (extent === undefined) {
    throw new ValidationError(
      "the message table is empty: nothing is archived and indexed yet (imvault index)",
    );
  }
  const held = `the message table holds ${extent.first}..${extent.last} (Beijing time)`;
  if (request.from !== undefined && hourStart(request.from) > hourStart(extent.last)) {
    throw new ValidationError(`--from ${request.from} is past the archive: ${held}; nothing was written`);
  }
  if (request.to !== undefined && hourStart(request.to) < hourStart(extent.first)) {
    throw new ValidationError(`--to ${request.to} is before the archive: ${held}; nothing was written`);
  }
}

/** The newest digest of the evidence chain, or null when nothing has been sealed yet. */
async function chainHead(store: ArchiveStore): Promise<ExportManifest["digestChainHead"]> {
  const seq = await findHeadSeq(store);
  if (seq === 0) return null;
  const stored = await readDigest(store, digestKey(seq));
  if (stored === undefined) return null;
  return {
    key: stored.key,
    seq: stored.seq,
    sha256: stored.sha256,
    digestEndTime: stored.digest?.digestEndTime ?? "",
  };
}
