import { describe, expect, it } from "vitest";
import { drive, FakeClock, fail, ok, type RecordedRequest, scriptedFetch } from "../../testing/im.ts";
import { ImApiError, ImTransportError, ValidationError } from "../errors.ts";
import { getCosSig, getHistory } from "./calls.ts";
import { ImClient, type ImClientOptions } from "./client.ts";
import type { ChatType, CosSigRequestItem } from "./types.ts";

type Script = Parameters<typeof scriptedFetch>[1];

function setup(script: Script, options: Partial<ImClientOptions> = {}) {
  const clock = new FakeClock(Date.parse("2024-03-01T04:00:00Z"));
  const fetch = scriptedFetch(clock, script);
  const client = new ImClient({
    sdkAppId: 1400000003,
    identifier: "administrator",
    secretKey: "calls-test-secret-key-0123456789",
    clock,
    fetch,
    random: () => 0.5,
    ratePerSecond: 1_000_000,
    ...options,
  });
  return { clock, fetch, client };
}

const FILE = {
  URL: "https://download.tim.qq.com/msg_history/2/9b8f8f063b73f61698ce11e58207e89ade40.gz",
  ExpireTime: "2015-12-02 16:45:23",
  FileSize: 65207,
  FileMD5: "cceece008bb7f469a47cf8c4b7acb84e",
  GzipSize: 1815,
  GzipMD5: "c3a0269dde393fd7a8bb18bfdeaeee2e",
};

describe("getHistory", () => {
  it("asks for the hour with {ChatType, MsgTime} and maps Tencent's example file", async () => {
    const { fetch, client, clock } = setup([ok({ File: [FILE] })]);

    const files = await drive(clock, getHistory(client, "C2C", "2015120121"));

    expect(fetch.requests[0]!.url.pathname).toBe("/v4/open_msg_svc/get_history");
    expect(fetch.requests[0]!.body).toEqual({ ChatType: "C2C", MsgTime: "2015120121" });
    expect(files).toEqual([
      {
        url: FILE.URL,
        expiresAt: new Date("2015-12-02T08:45:23Z"), // ExpireTime is Beijing time
        expireTimeText: "2015-12-02 16:45:23",
        fileSize: 65207,
        fileMd5: "cceece008bb7f469a47cf8c4b7acb84e",
        gzipSize: 1815,
        gzipMd5: "c3a0269dde393fd7a8bb18bfdeaeee2e",
      },
    ]);
  });

  it("returns every file of an hour that has several, in Tencent's order", async () => {
    const files = [1, 2, 3].map((n) => ({
      ...FILE,
      URL: `https://download.tim.qq.com/msg_history/${n}.gz`,
      FileSize: n,
    }));
    const { client, clock } = setup([ok({ File: files })]);
    const result = await drive(clock, getHistory(client, "Group", "2024022923"));
    expect(result.map((f) => [f.url, f.fileSize])).toEqual([
      ["https://download.tim.qq.com/msg_history/1.gz", 1],
      ["https://download.tim.qq.com/msg_history/2.gz", 2],
      ["https://download.tim.qq.com/msg_history/3.gz", 3],
    ]);
  });

  it("retries 1003 (system error) and returns the files that follow", async () => {
    const { fetch, client, clock } = setup([fail(1003, "system error"), ok({ File: [FILE] })]);
    expect(await drive(clock, getHistory(client, "C2C", "2015120121"))).toHaveLength(1);
    expect(fetch.requests).toHaveLength(2);
  });

  it.each([1004, 1005])("surfaces %i as ImApiError with that code, without retrying", async (code) => {
    const { fetch, client, clock } = setup([fail(code, "no file"), ok({ File: [FILE] })]);
    const error = await drive(clock, getHistory(client, "C2C", "2015120121")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImApiError);
    expect(error).toMatchObject({ code, command: "open_msg_svc/get_history" });
    expect(fetch.requests).toHaveLength(1);
  });

  it("refuses a bad chat type or MsgTime before calling Tencent", async () => {
    const { fetch, client } = setup([ok({ File: [] })]);
    await expect(getHistory(client, "Private" as ChatType, "2015120121")).rejects.toThrow(ValidationError);
    await expect(getHistory(client, "C2C", "2023022900")).rejects.toThrow(/day 29 does not exist/);
    expect(fetch.requests).toHaveLength(0);
  });

  it.each([
    ["no File array", {}, /File: /],
    ["File not an array", { File: FILE }, /File: /],
    ["a negative size", { File: [{ ...FILE, GzipSize: -1 }] }, /File\.0\.GzipSize/],
    ["an MD5 that is not hex", { File: [FILE, { ...FILE, FileMD5: "xyz" }] }, /File\.1\.FileMD5/],
    ["a URL that is not a URL", { File: [{ ...FILE, URL: "not a url" }] }, /File\.0\.URL/],
    [
      "an ExpireTime in another format",
      { File: [{ ...FILE, ExpireTime: "2015-12-02T16:45:23Z" }] },
      /File\.0\.ExpireTime/,
    ],
  ])("throws a clear ImTransportError when the answer has %s", async (_what, extra, problem) => {
    const { client, clock } = setup([ok(extra)]);
    const error = await drive(clock, getHistory(client, "C2C", "2015120121")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImTransportError);
    expect((error as Error).message).toMatch(/open_msg_svc\/get_history answered in an unexpected shape/);
    expect((error as Error).message).toMatch(problem);
  });

  it("returns no files for an OK answer with an empty File array", async () => {
    const { client, clock } = setup([ok({ File: [] })]);
    expect(await drive(clock, getHistory(client, "Group", "2015120121"))).toEqual([]);
  });
});

const raw = (n: number): CosSigRequestItem => ({
  ResourceID: n,
  RawURL: `https://cos.ap-shanghai.myqcloud.com/bucket/0345-1400187352/${n}.png`,
});

/** A get_cos_sig answer for the request's items, in reverse order, with the status given per id. */
function cosAnswer(
  status: (id: number) => number,
  preSig: (id: number) => string = (id) => `https://cos/${id}.png?sign=s`,
) {
  return (r: RecordedRequest) => {
    const items = (r.body as { RawURLs: CosSigRequestItem[] }).RawURLs;
    return ok({
      PreSigURLs: items
        .map((item) => ({
          ResourceID: item.ResourceID,
          Code: 0,
          Desc: "",
          PreSigURL: preSig(item.ResourceID),
          Status: status(item.ResourceID),
        }))
        .reverse(),
    });
  };
}

describe("getCosSig", () => {
  it("maps Status 0/1/2 to normal/banned/missing (else unknown) and keeps the caller's order", async () => {
    const { fetch, client, clock } = setup([cosAnswer((id) => id % 4)]);

    const results = await drive(clock, getCosSig(client, [raw(3), raw(1), raw(2), raw(0)]));

    expect(fetch.requests[0]!.url.pathname).toBe("/v4/im_cos_msg/get_cos_sig");
    expect(fetch.requests[0]!.body).toEqual({ RawURLs: [raw(3), raw(1), raw(2), raw(0)] });
    expect(results.map((r) => [r.ResourceID, r.Status, r.StatusText])).toEqual([
      [3, 3, "unknown"],
      [1, 1, "banned"],
      [2, 2, "missing"],
      [0, 0, "normal"],
    ]);
    expect(results[1]).toMatchObject({ Code: 0, Desc: "", PreSigURL: "https://cos/1.png?sign=s" });
  });

  it("splits 250 items into calls of 100, 100 and 50 and returns all 250 in order", async () => {
    const { fetch, client, clock } = setup([cosAnswer(() => 0)]);
    const items = Array.from({ length: 250 }, (_, i) => raw(1000 + i));

    const results = await drive(clock, getCosSig(client, items));

    expect(fetch.requests.map((r) => (r.body as { RawURLs: unknown[] }).RawURLs.length)).toEqual([
      100, 100, 50,
    ]);
    expect(results.map((r) => r.ResourceID)).toEqual(items.map((i) => i.ResourceID));
  });

  it("honours a smaller chunk size", async () => {
    const { fetch, client, clock } = setup([cosAnswer(() => 0)]);
    await drive(clock, getCosSig(client, [raw(1), raw(2), raw(3)], { chunkSize: 2 }));
    expect(fetch.requests.map((r) => (r.body as { RawURLs: unknown[] }).RawURLs.length)).toEqual([2, 1]);
  });

  it("sets ExpiresAt to the answer time + 15 min, or to the URL's im-time-expired when present", async () => {
    const { client, clock } = setup([
      cosAnswer(
        () => 1,
        (id) =>
          id === 1 ? "https://cos/1.png?sign=x&im-time-expired=1653904781" : `https://cos/${id}.png?sign=x`,
      ),
    ]);
    const answeredAt = clock.now();
    const [withExpiry, without] = await drive(clock, getCosSig(client, [raw(1), raw(2)]));
    expect(withExpiry!.ExpiresAt).toBe(new Date(1653904781 * 1000).toISOString());
    expect(without!.ExpiresAt).toBe(new Date(answeredAt + 15 * 60_000).toISOString());
    expect(without!.ExpiresAt).toBe("2024-03-01T04:15:00.000Z");
  });

  it("stamps ExpiresAt when the answer arrived, after any retry wait", async () => {
    const { client, clock } = setup([fail(60008), cosAnswer(() => 0)], {
      random: () => 1,
      baseDelayMs: 4_000,
    });
    const start = clock.now();
    const [result] = await drive(clock, getCosSig(client, [raw(1)]));
    expect(result!.ExpiresAt).toBe(new Date(start + 4_000 + 15 * 60_000).toISOString());
  });

  it("makes no call for no items", async () => {
    const { fetch, client, clock } = setup([cosAnswer(() => 0)]);
    expect(await drive(clock, getCosSig(client, []))).toEqual([]);
    expect(fetch.requests).toHaveLength(0);
  });

  it("refuses duplicate ResourceIDs and a bad chunk size before calling Tencent", async () => {
    const { fetch, client } = setup([cosAnswer(() => 0)]);
    await expect(getCosSig(client, [raw(1), raw(1)])).rejects.toThrow(/ResourceID 1 appears more than once/);
    await expect(getCosSig(client, [raw(1)], { chunkSize: 0 })).rejects.toThrow(ValidationError);
    expect(fetch.requests).toHaveLength(0);
  });

  it("throws a clear ImTransportError when an item is missing from the answer or the shape is wrong", async () => {
    const missing = setup([
      ok({ PreSigURLs: [{ ResourceID: 1, Code: 0, Desc: "", PreSigURL: "", Status: 0 }] }),
    ]);
    await expect(drive(missing.clock, getCosSig(missing.client, [raw(1), raw(2)]))).rejects.toThrow(
      /no PreSigURLs item for ResourceID 2/,
    );
    const wrong = setup([ok({ PreSigURLs: [{ ResourceID: "1", Code: 0, Status: 0 }] })]);
    await expect(drive(wrong.clock, getCosSig(wrong.client, [raw(1)]))).rejects.toThrow(
      /get_cos_sig answered in an unexpected shape: PreSigURLs\.0\.ResourceID/,
    );
  });

  it("passes Tencent's errors through as ImApiError", async () => {
    const { client, clock } = setup([fail(70009, "sig verify failed")]);
    await expect(drive(clock, getCosSig(client, [raw(1)]))).rejects.toMatchObject({
      name: "ImApiError",
      code: 70009,
    });
  });
});
