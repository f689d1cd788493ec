import { type MediaItemView, readHourMedia } from "../src/model/features.ts";
import { describeMsgTime, formatBytes, hourStartMs } from "../src/model/time.ts";
import { ApiError } from "./api.ts";
import { useConsole } from "./context.ts";
import { fileName, mediaKind, Preview } from "./preview.tsx";
import { Countdown, ErrorView, Loading, NotAvailable, useRequest, When } from "./ui.tsx";

interface ManifestFile {
  key: string;
  sourceUrl: string;
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  messageCount: number;
  framingProblem?: string;
}

interface ArchiveView {
  manifest: { chatType: string; msgTime: string; status: string; files: ManifestFile[]; archivedAt: string };
  downloads: { key: string; url: string; expiresAt: string }[];
}

/** One hour: its manifest (files, sizes, MD5s, message counts), download links, and its media when listed. */
export function HourScreen({ chatType, msgTime }: { chatType: string; msgTime: string }) {
  const { api } = useConsole();
  const { result, reload } = useRequest(
    (signal) => api.get<ArchiveView>(`/v1/archive/${encodeURIComponent(chatType)}/${msgTime}`, signal),
    [api, chatType, msgTime],
  );
  const start = hourStartMs(msgTime);
  return (
    <section aria-labelledby="hour-title">
      <p>
        <a href="#/coverage">← Coverage</a>
      </p>
      <h1 id="hour-title">
        {chatType} · {describeMsgTime(msgTime)} Beijing
      </h1>
      <p class="muted">
        The hour from <When ms={start} /> to <When ms={start + 3_600_000} />.
      </p>
      {result.state === "loading" ? <Loading what="the hour's manifest" /> : null}
      {result.state === "error" ? (
        result.error instanceof ApiError && result.error.status === 404 ? (
          <div class="notice" role="status">
            <p>Not archived: this hour has no manifest yet.</p>
            <p class="muted">{result.error.message}</p>
          </div>
        ) : (
          <ErrorView error={result.error} retry={reload} />
        )
      ) : null}
      {result.state === "done" ? <HourView view={result.data} /> : null}
    </section>
  );
}

function HourView({ view }: { view: ArchiveView }) {
  const { manifest, downloads } = view;
  const messages = manifest.files.reduce((n, f) => n + f.messageCount, 0);
  const bytes = manifest.files.reduce((n, f) => n + f.gzipSize, 0);
  const media = readHourMedia(view);
  return (
    <>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <span class={`badge s-${manifest.status}`} data-status={manifest.status}>
              {manifest.status}
            </span>
          </dd>
        </div>
        <div>
          <dt>Archived at</dt>
          <dd>
            <When ms={Date.parse(manifest.archivedAt)} seconds />
          </dd>
        </div>
        <div>
          <dt>Files</dt>
          <dd>
            {manifest.files.length} ({formatBytes(bytes)} gzip)
          </dd>
        </div>
        <div>
          <dt>Messages</dt>
          <dd>{messages}</dd>
        </div>
      </dl>
      {manifest.files.length === 0 ? (
        <p>
          No files:{" "}
          {manifest.status === "empty"
            ? "Tencent had no messages for this hour."
            : "Tencent deleted them before they were archived."}
        </p>
      ) : (
        <div class="table-scroll">
          <table class="files">
            <caption>Files of the hour, verified when stored (sizes and MD5s as Tencent gave them)</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Messages</th>
                <th scope="col">GZip size</th>
                <th scope="col">GZip MD5</th>
                <th scope="col">Plain size</th>
                <th scope="col">Plain MD5</th>
                <th scope="col">Download</th>
              </tr>
            </thead>
            <tbody>
              {manifest.files.map((f, i) => {
                const d = downloads[i]?.key === f.key ? downloads[i] : downloads.find((x) => x.key === f.key);
                return (
                  <tr key={f.key}>
                    <th scope="row" title={f.key}>
                      {f.key.split("/").at(-1)}
                      {f.framingProblem === undefined ? null : <p class="warn">Layout: {f.framingProblem}</p>}
                    </th>
                    <td class="num">{f.messageCount}</td>
                    <td class="num">{formatBytes(f.gzipSize)}</td>
                    <td class="hash">{f.gzipMd5}</td>
                    <td class="num">{formatBytes(f.fileSize)}</td>
                    <td class="hash">{f.fileMd5}</td>
                    <td>
                      {d === undefined ? (
                        "—"
                      ) : (
                        <>
                          <a href={d.url} rel="noopener noreferrer" download>
                            Download
                          </a>{" "}
                          <span class="muted">
                            (link expires <Countdown ms={Date.parse(d.expiresAt)} />)
                          </span>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <h2>Media</h2>
      {media === undefined ? (
        <NotAvailable what="Media capture per hour" />
      ) : media.length === 0 ? (
        <p>The hour's messages hold no media.</p>
      ) : (
        <MediaList items={media} />
      )}
    </>
  );
}

const STATE_TEXT: Record<MediaItemView["state"], string> = {
  captured: "captured",
  banned: "banned (captured)",
  missing: "missing at Tencent",
  refused: "refused",
};

function MediaList({ items }: { items: MediaItemView[] }) {
  return (
    <ul class="media-list">
      {items.map((item) => (
        <li key={item.rawUrl} class={`media-item m-${item.state}`}>
          <span class={`badge m-${item.state}`}>{STATE_TEXT[item.state]}</span>{" "}
          <span class="url" title={item.rawUrl}>
            {fileName(item.rawUrl)}
          </span>
          {item.size === undefined ? null : <span class="muted"> {formatBytes(item.size)}</span>}
          {item.reason === undefined ? null : <span class="muted"> ({item.reason})</span>}
          {item.url === undefined ? null : (
            <Preview
              url={item.url}
              name={fileName(item.rawUrl)}
              kind={mediaKind(item.rawUrl, item.contentType)}
            />
          )}
        </li>
      ))}
    </ul>
  );
}
