import { useEffect, useMemo, useRef } from "preact/hooks";
import {
  buildHeatmap,
  CELL_STATES,
  describeCell,
  type HeatCell,
  type Heatmap,
  STATE_INFO,
  type StatusAnswer,
} from "../src/model/heatmap.ts";
import { describeMsgTime, formatBytes } from "../src/model/time.ts";
import { useConsole } from "./context.ts";
import { hrefOf } from "./router.ts";
import { Countdown, ErrorView, Loading, useNow, useRequest, When } from "./ui.tsx";

const WINDOWS = [24, 72, 168];

/** Coverage: the lookback window as a heatmap (days × Beijing hours, a row per chat type and day). */
export function CoverageScreen({ hours }: { hours: number | undefined }) {
  const { api, config } = useConsole();
  const shown = hours ?? config.lookbackHours;
  const { result, reload } = useRequest(
    (signal) => api.get<StatusAnswer>(`/v1/status?hours=${shown}`, signal),
    [api, shown],
  );
  const now = useNow(60_000);
  const map = useMemo(
    () =>
      result.state === "done"
        ? buildHeatmap(result.data, {
            nowMs: now,
            settleHours: config.settleHours,
            retentionDays: config.retentionDays,
          })
        : undefined,
    [result, now, config],
  );
  const windows = [...new Set([...WINDOWS, config.lookbackHours])].sort((a, b) => a - b);

  return (
    <section aria-labelledby="coverage-title">
      <div class="titlebar">
        <h1 id="coverage-title">Coverage</h1>
        <div class="controls">
          <label for="window">Window</label>
          <select
            id="window"
            value={String(shown)}
            onChange={(e) => {
              location.hash = hrefOf({
                view: "coverage",
                hours: Number((e.target as HTMLSelectElement).value),
              });
            }}
          >
            {windows.map((w) => (
              <option key={w} value={String(w)}>
                last {w} hours{w === config.lookbackHours ? " (lookback)" : ""}
              </option>
            ))}
          </select>
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      {result.state === "loading" ? <Loading what="coverage" /> : null}
      {result.state === "error" ? <ErrorView error={result.error} retry={reload} /> : null}
      {map === undefined ? null : <CoverageView map={map} now={now} />}
    </section>
  );
}

function CoverageView({ map, now }: { map: Heatmap; now: number }) {
  const { config } = useConsole();
  return (
    <>
      <AtRisk map={map} now={now} />
      <p class="summary">
        {describeMsgTime(map.from)} – {describeMsgTime(map.to)} Beijing ({map.hours} hours):{" "}
        {CELL_STATES.filter((s) => map.counts[s] > 0)
          .map((s) => `${map.counts[s]} ${STATE_INFO[s].label}`)
          .join(", ")}
        .{" "}
        <span class="muted">
          Settle {config.settleHours} h, Tencent retention {config.retentionDays} d
          {config.fromPage ? "" : " (defaults: this API does not say)"}.
        </span>
      </p>
      <Legend hasMedia={map.hasMedia} />
      <HeatmapGrid map={map} now={now} />
    </>
  );
}

function AtRisk({ map, now }: { map: Heatmap; now: number }) {
  if (map.atRisk.length === 0 && map.pastRetention.length === 0) {
    return (
      <p class="notice ok" role="status">
        No hour at risk: every hour past settle is archived, empty or expired.
      </p>
    );
  }
  return (
    <div class="notice risk" role="alert" aria-labelledby="risk-title">
      {map.atRisk.length > 0 ? (
        <>
          <h2 id="risk-title">
            {map.atRisk.length} hour{map.atRisk.length === 1 ? "" : "s"} at risk: not archived past settle
          </h2>
          <p>
            Tencent deletes the soonest ({map.atRisk[0]!.chatType} {describeMsgTime(map.atRisk[0]!.msgTime)}{" "}
            Beijing){" "}
            <strong>
              <Countdown ms={map.atRisk[0]!.deadlineMs!} />
            </strong>
            , at <When ms={map.atRisk[0]!.deadlineMs!} />.
          </p>
          <ul class="risk-list">
            {map.atRisk.slice(0, 8).map((c) => (
              <li key={`${c.chatType}${c.msgTime}`}>
                <a href={hrefOf({ view: "hour", chatType: c.chatType, msgTime: c.msgTime })}>
                  {c.chatType} {describeMsgTime(c.msgTime)}
                </a>{" "}
                deleted <Countdown ms={c.deadlineMs!} />
              </li>
            ))}
            {map.atRisk.length > 8 ? <li>and {map.atRisk.length - 8} more</li> : null}
          </ul>
        </>
      ) : (
        <h2 id="risk-title">No hour at risk within Tencent's retention</h2>
      )}
      {map.pastRetention.length > 0 ? (
        <p>
          {map.pastRetention.length} missing hour{map.pastRetention.length === 1 ? " is" : "s are"} past
          Tencent's retention: almost surely lost.
        </p>
      ) : null}
      <p class="muted">
        Now: <When ms={now} />
      </p>
    </div>
  );
}

function Legend({ hasMedia }: { hasMedia: boolean }) {
  return (
    <dl class="legend" aria-label="Legend">
      {CELL_STATES.map((s) => (
        <div key={s}>
          <dt>
            <span class={`swatch s-${s}`} aria-hidden="true">
              {STATE_INFO[s].glyph}
            </span>{" "}
            {STATE_INFO[s].label}
          </dt>
          <dd>{STATE_INFO[s].meaning}</dd>
        </div>
      ))}
      {hasMedia ? (
        <div>
          <dt>
            <span class="swatch s-archived" aria-hidden="true">
              ✓<span class="media-mark media-some-missing">◇</span>
            </span>{" "}
            media
          </dt>
          <dd>
            corner mark: ● all captured, ◇ some missing or refused, ◌ not captured yet, ⁇ media manifest
            unreadable (none: no media)
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

const HOURS = Array.from({ length: 24 }, (_, h) => h);

/** The grid: one link per hour, arrow keys move between them (one tab stop for the whole grid). */
function HeatmapGrid({ map, now }: { map: Heatmap; now: number }) {
  const table = useRef<HTMLTableElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // The time to the heatmap, for the browser test and anyone curious (Performance panel).
    performance.mark("imvault:heatmap");
    // On a narrow screen the grid scrolls: start at the newest hours (the right end).
    if (box.current !== null) box.current.scrollLeft = box.current.scrollWidth;
  }, [map]);

  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
    };
    const move = moves[event.key];
    const target = event.target as HTMLElement;
    if (move === undefined || !target.matches("a.cell")) return;
    const cells = [...(table.current?.querySelectorAll<HTMLAnchorElement>("a.cell") ?? [])];
    const row = Number(target.dataset.row);
    const col = Number(target.dataset.col);
    const next = nearest(cells, row + move[0], col + move[1], move);
    if (next === undefined) return;
    event.preventDefault();
    for (const c of cells) c.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  };

  const first = map.rows.flatMap((r) => r.cells).find((c) => c !== null);
  return (
    <div class="heatmap-scroll" ref={box}>
      <table class="heatmap" ref={table} onKeyDown={onKeyDown} aria-label="Archive coverage by Beijing hour">
        <thead>
          <tr>
            <th scope="col" class="corner">
              Beijing day
            </th>
            {HOURS.map((h) => (
              <th scope="col" key={h} class="hour">
                {String(h).padStart(2, "0")}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {map.rows.map((row, r) => (
            <tr
              key={`${row.date}${row.chatType}`}
              class={row.chatType === map.chatTypes[0] ? "day-start" : undefined}
            >
              <th scope="row">
                <span class="date">{row.date}</span> <span class="chat-type">{row.chatType}</span>
              </th>
              {row.cells.map((cell, h) =>
                cell === null ? (
                  <td key={HOURS[h]} class="slot-none" />
                ) : (
                  <td key={HOURS[h]}>
                    <Cell cell={cell} now={now} row={r} col={h} tabbable={cell === first} />
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Cell({
  cell,
  now,
  row,
  col,
  tabbable,
}: {
  cell: HeatCell;
  now: number;
  row: number;
  col: number;
  tabbable: boolean;
}) {
  const label = describeCell(cell, now);
  const mark = cell.media === undefined || cell.media.glyph === "" ? undefined : cell.media;
  return (
    <a
      class={`cell s-${cell.state}`}
      href={hrefOf({ view: "hour", chatType: cell.chatType, msgTime: cell.msgTime })}
      tabIndex={tabbable ? 0 : -1}
      data-row={row}
      data-col={col}
      data-chat-type={cell.chatType}
      data-msg-time={cell.msgTime}
      data-status={cell.status}
      data-state={cell.state}
      data-media={cell.media?.state}
      aria-label={label}
      title={cell.state === "archived" ? `${label}, ${formatBytes(cell.bytes)}` : label}
    >
      <span aria-hidden="true">{STATE_INFO[cell.state].glyph}</span>
      {mark === undefined ? null : (
        <span class={`media-mark media-${mark.state}`} aria-hidden="true">
          {mark.glyph}
        </span>
      )}
    </a>
  );
}

/** The cell at (row, col), or the closest one further along the move (rows may have gaps). */
function nearest(cells: HTMLAnchorElement[], row: number, col: number, move: [number, number]) {
  const at = (r: number, c: number) =>
    cells.find((x) => Number(x.dataset.row) === r && Number(x.dataset.col) === c);
  for (let step = 0; step < 30; step++) {
    const r = row + move[0] * step;
    const c = col + move[1] * step;
    if (c < 0 || c > 23 || r < 0) return undefined;
    const found = at(r, c);
    if (found !== undefined) return found;
  }
  return undefined;
}
