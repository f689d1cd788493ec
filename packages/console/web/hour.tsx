import {
  type ArchiveView,
  type HourMedia,
  type MediaItem,
  type MediaState,
  mediaState,
} from "../src/model/answers.ts";
import { describeMsgTime, formatBytes, hourStartMs } from "../src/model/time.ts";
import { ApiError } from "./api.ts";
import { ArchivedMedia } from "./archived-media.tsx";
import { useConsole } from "./context.ts";
import { fileName } from "./preview.tsx";
import { Countdown, ErrorView, Loading, useRequest, When } from "./ui.tsx";

/** One hour: its manifest (files, sizes, MD5s, message counts), download links, and its media with their status. */
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
      <HourMediaView media={view.media} />
    </>
  );
}

const STATE_TEXT: Record<MediaState, string> = {
  captured: "captured",
  banned: "banned (captured)",
  missing: "missing at Tencent",
  refused: "refused",
};

function HourMediaView({ media }: { media: HourMedia }) {
  if (media === "pending") {
    return <p class="notice">The hour's media are not captured yet: the next archive run captures them.</p>;
  }
  if (media === "corrupt") {
    return (
      <p class="notice error">
        The hour's media manifest cannot be read: <code>imvault verify</code> says why.
      </p>
    );
  }
  if (media.items.length === 0) return <p>The hour's messages hold no media.</p>;
  const counts = new Map<MediaState, number>();
  for (const item of media.items) counts.set(mediaState(item), (counts.get(mediaState(item)) ?? 0) + 1);
  return (
    <>
      <p class="muted">
        {[...counts].map(([state, n]) => `${n} ${STATE_TEXT[state]}`).join(", ")}; captured{" "}
        <When ms={Date.parse(media.capturedAt)} />.
      </p>
      <ul class="cards media-list">
        {media.items.map((item) => (
          <MediaCard key={item.rawUrl} item={item} />
        ))}
      </ul>
    </>
  );
}

function MediaCard({ item }: { item: MediaItem }) {
  const state = mediaState(item);
  return (
    <li class="card media-item" data-media-state={state}>
      <p>
        <span class={`badge m-${state}`}>{STATE_TEXT[state]}</span>
      </p>
      <p class="url" title={item.rawUrl}>
        {fileName(item.rawUrl)}
      </p>
      {item.status === "refused" ? <p class="muted">{item.reason}</p> : null}
      {item.status === "missing" ? <p class="muted">Tencent no longer had the file (Status 2).</p> : null}
      {item.status === "captured" ? (
        <ArchivedMedia rawUrl={item.rawUrl} contentType={item.contentType} />
      ) : null}
    </li>
  );
}
