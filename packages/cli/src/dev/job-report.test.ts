import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalStore, type LocalArchiveStore, writeMediaManifest } from "@imvault/im-core";
import { storeArchivedHour } from "@imvault/im-core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeBatch } from "./job-report.ts";
import { toSqsEvent } from "./sqs-event.ts";

const QUEUE = { arn: "arn:aws:sqs:us-east-1:000000000000:imvault-jobs", region: "us-east-1" };
const records = (...bodies: string[]) =>
  toSqsEvent(
    bodies.map((Body, i) => ({ MessageId: `m-${i}`, ReceiptHandle: `r-${i}`, Body, Attributes: {} })),
    QUEUE,
  ).Records;

let dir: string;
let store: LocalArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-job-report-"));
  store = createLocalStore({ root: dir });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("describeBatch with media jobs", () => {
  it("tells a media job by its media manifest, a history job by its manifest, and a media job of an unarchived hour", async () => {
    await storeArchivedHour(store, "C2C", "2024050101", [[]]);
    await writeMediaManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: "2024050101",
      items: [
        {
          rawUrl: "https://a.myqcloud.com/x.png",
          status: "captured",
          key: "media/a.myqcloud.com/x.png",
          size: 2048,
          sha256: "a".repeat(64),
        },
        {
          rawUrl: "https://a.myqcloud.com/x.png?thumb",
          status: "captured",
          key: "media/a.myqcloud.com/x.png",
          size: 2048,
          sha256: "a".repeat(64),
        },
        { rawUrl: "https://a.myqcloud.com/y.mp4", status: "missing", tencentStatus: 2 },
      ],
      capturedAt: "2024-05-01T03:00:00.000Z",
    });

    const lines = await describeBatch(
      store,
      records(
        '{"v":1,"kind":"media","chatType":"C2C","msgTime":"2024050101"}',
        '{"v":1,"chatType":"C2C","msgTime":"2024050101"}',
        '{"v":1,"kind":"media","chatType":"Group","msgTime":"2024050101"}',
      ),
      [],
      5,
    );

    expect(lines.map((l) => [l.job?.kind, l.outcome, l.text])).toEqual([
      ["media", "media", "media     C2C   2024050101  2 captured, 1 missing, 0 refused, 2.0 KiB"],
      ["history", "archived", expect.stringMatching(/^archived {2}C2C {3}2024050101 {2}1 file, /)],
      [
        "media",
        "media pending",
        expect.stringMatching(/^pending {3}Group 2024050101 media {2}\(the hour is not archived/),
      ],
    ]);
  });

  it("names a failed media job as one", async () => {
    const batch = records('{"v":1,"kind":"media","chatType":"C2C","msgTime":"2024050101"}');

    const [line] = await describeBatch(store, batch, batch, 5);

    expect(line?.text).toMatch(
      /^failed {4}C2C {3}2024050101 media {2}\(receive 1 of 5; retried after the visibility timeout\)$/,
    );
  });
});

describe("describeBatch with export jobs", () => {
  it("tells an export job by its status.json: the zip's size once it succeeded, the reason when it failed", async () => {
    const ids = ["0f0e0d0c-0b0a-4909-8807-060504030201", "0f0e0d0c-0b0a-4909-8807-060504030202"];
    await store.put(`exports/${ids[0]}/status.json`, JSON.stringify({ state: "succeeded", size: 2048 }));
    await store.put(
      `exports/${ids[1]}/status.json`,
      JSON.stringify({ state: "failed", error: "past the archive" }),
    );
    const job = (id: string) =>
      JSON.stringify({ v: 1, kind: "export", id, request: { user: "u1", format: "jsonl" } });

    const lines = await describeBatch(store, records(job(ids[0]!), job(ids[1]!)), [], 5);

    expect(lines.map((l) => [l.outcome, l.text])).toEqual([
      ["export", `export    ${ids[0]}  export.zip, 2.0 KiB`],
      ["export", `export    ${ids[1]}  failed: past the archive`],
    ]);
  });
});
