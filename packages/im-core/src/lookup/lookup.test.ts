import { describe, expect, it } from "vitest";
import { FakeClock, recordingLogger } from "../../testing/im.ts";
import { ImApiError, ImTransportError } from "../errors.ts";
import type { CosSigRequestItem, CosSigResult } from "../im/types.ts";
import { AUDIT_MESSAGE, lookupCosSig } from "./lookup.ts";

const RAW = "https://cos.ap-shanghai.myqcloud.com/bucket-1256635546/0345-1400187352/0612-yyy";
const items: CosSigRequestItem[] = [
  { ResourceID: 5, RawURL: `${RAW}/a.png?imageMogr2/thumbnail` },
  { ResourceID: 3, RawURL: `${RAW}/b.mp4` },
];

function result(id: number, status: number): CosSigResult {
  return {
    ResourceID: id,
    Code: 0,
    Desc: "",
    PreSigURL: `${RAW}/${id}?sign=SIGNATURE${id}&im-time-expired=1709252100`,
    Status: status,
    StatusText: status === 0 ? "normal" : status === 1 ? "banned" : "missing",
    ExpiresAt: "2024-03-01T00:15:00.000Z",
  };
}

const caller = { keyName: "moderation", requestId: "req-123" };

describe("lookupCosSig", () => {
  it("answers in the caller's order even when the answers come back in another", async () => {
    const deps = {
      getCosSig: async () => [result(3, 1), result(5, 0)],
      logger: recordingLogger(),
      clock: new FakeClock(),
    };
    const results = await lookupCosSig(deps, items, caller);
    expect(results.map((r) => [r.ResourceID, r.StatusText])).toEqual([
      [5, "normal"],
      [3, "banned"],
    ]);
  });

  it("writes one audit line naming the key, the request, each ResourceID with its URL path and status", async () => {
    const logger = recordingLogger();
    await lookupCosSig(
      { getCosSig: async () => [result(5, 0), result(3, 2)], logger, clock: new FakeClock() },
      items,
      caller,
    );
    const audits = logger.lines.filter((l) => l.message === AUDIT_MESSAGE);
    expect(audits).toHaveLength(1);
    expect(audits[0]?.fields).toMatchObject({
      audit: true,
      keyName: "moderation",
      requestId: "req-123",
      outcome: "ok",
      resources: [
        {
          ResourceID: 5,
          host: "cos.ap-shanghai.myqcloud.com",
          path: "/bucket-1256635546/0345-1400187352/0612-yyy/a.png",
        },
        {
          ResourceID: 3,
          host: "cos.ap-shanghai.myqcloud.com",
          path: "/bucket-1256635546/0345-1400187352/0612-yyy/b.mp4",
        },
      ],
      statuses: [
        { ResourceID: 5, code: 0, status: "normal" },
        { ResourceID: 3, code: 0, status: "missing" },
      ],
    });
  });

  it("keeps query strings and PreSigURLs out of the audit line", async () => {
    const logger = recordingLogger();
    await lookupCosSig(
      { getCosSig: async () => [result(5, 0), result(3, 0)], logger, clock: new FakeClock() },
      items,
      caller,
    );
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain("thumbnail");
    expect(text).not.toContain("SIGNATURE");
  });

  it("audits a failed lookup once, with the Tencent code, and rethrows the same error", async () => {
    const logger = recordingLogger();
    const failure = new ImApiError({
      command: "im_cos_msg/get_cos_sig",
      code: 70009,
      info: "sig",
      retryable: false,
    });
    const lookup = lookupCosSig(
      { getCosSig: async () => Promise.reject(failure), logger, clock: new FakeClock() },
      items,
      caller,
    );
    await expect(lookup).rejects.toBe(failure);
    const audits = logger.lines.filter((l) => l.message === AUDIT_MESSAGE);
    expect(audits).toHaveLength(1);
    expect(audits[0]?.fields).toMatchObject({
      keyName: "moderation",
      outcome: "failed",
      error: "ImApiError",
      code: 70009,
    });
  });

  it("fails when Tencent's answer leaves out a ResourceID rather than answer for fewer items", async () => {
    const deps = { getCosSig: async () => [result(5, 0)], logger: recordingLogger(), clock: new FakeClock() };
    await expect(lookupCosSig(deps, items, caller)).rejects.toBeInstanceOf(ImTransportError);
  });

  it("passes the caller's abort signal down to getCosSig", async () => {
    let seen: AbortSignal | undefined;
    const signal = new AbortController().signal;
    const deps = {
      getCosSig: async (_: CosSigRequestItem[], s?: AbortSignal) => {
        seen = s;
        return [result(5, 0), result(3, 0)];
      },
      logger: recordingLogger(),
      clock: new FakeClock(),
    };
    await lookupCosSig(deps, items, caller, { signal });
    expect(seen).toBe(signal);
  });
});
