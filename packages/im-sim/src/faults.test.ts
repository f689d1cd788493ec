import { describe, expect, it } from "vitest";
import { Faults } from "./faults.ts";

describe("fault control", () => {
  it("uses a queued fault for as many matching requests as its count, then no more", () => {
    const f = new Faults();
    f.next({ kind: "code1003", count: 2, match: { command: "get_history" } });

    expect(f.forApi({ command: "get_cos_sig" })).toBeUndefined();
    expect(f.forApi({ command: "get_history" })?.kind).toBe("code1003");
    expect(f.forApi({ command: "get_history" })?.kind).toBe("code1003");
    expect(f.forApi({ command: "get_history" })).toBeUndefined();
  });

  it("keeps API faults off downloads and download faults off API calls", () => {
    const f = new Faults();
    f.next([{ kind: "corrupt" }, { kind: "http502" }]);

    expect(f.forApi({ command: "get_history" })?.kind).toBe("http502");
    expect(f.forDownload({ target: "history" })?.kind).toBe("corrupt");
    expect(f.pending().queued).toEqual([]);
  });

  it("matches downloads by chat type, hour and file index", () => {
    const f = new Faults();
    f.next({ kind: "truncate", match: { chatType: "Group", msgTime: "2024010203", fileIndex: 1 } });

    expect(
      f.forDownload({ target: "history", chatType: "Group", msgTime: "2024010203", fileIndex: 0 }),
    ).toBeUndefined();
    expect(
      f.forDownload({ target: "history", chatType: "Group", msgTime: "2024010203", fileIndex: 1 })?.kind,
    ).toBe("truncate");
  });

  it("draws random faults in the same sequence for the same seed", () => {
    const draw = (seed: string) => {
      const f = new Faults();
      f.random({ corrupt: 0.3, truncate: 0.3, http503: 0.2 }, seed);
      return Array.from({ length: 50 }, (_, i) =>
        i % 2 ? f.forApi({ command: "get_history" })?.kind : f.forDownload({ target: "history" })?.kind,
      );
    };
    const a = draw("s1");

    expect(draw("s1")).toEqual(a);
    expect(draw("s2")).not.toEqual(a);
    expect(a.filter((k) => k !== undefined).length).toBeGreaterThan(5);
  });

  it("rejects unknown kinds and bad probabilities, and clear() stops everything", () => {
    const f = new Faults();

    expect(() => f.next({ kind: "explode" as "corrupt" })).toThrow(/unknown fault kind/);
    expect(() => f.random({ corrupt: 2 })).toThrow(/0 – 1/);
    f.next({ kind: "stall", count: Number.POSITIVE_INFINITY });
    f.random({ slow: 1 });
    f.clear();
    expect(f.forDownload({ target: "media" })).toBeUndefined();
  });

  it("matches a media download by its RawURL's object path, query ignored", () => {
    const f = new Faults();
    const raw = "https://cos.ap-shanghai.myqcloud.com/b/0345-1/0612-u/abc.png";
    f.next({ kind: "serverError", match: { mediaUrl: `${raw}?imageMogr2/thumbnail/198x` } });

    expect(f.forDownload({ target: "media", objectPath: "b/0345-1/0612-u/other.png" })).toBeUndefined();
    expect(f.forDownload({ target: "history" })).toBeUndefined();
    expect(f.forDownload({ target: "media", objectPath: "b/0345-1/0612-u/abc.png" })?.kind).toBe(
      "serverError",
    );
  });

  it("counts notFound and serverError as download faults and refuses a mediaUrl that is not a URL", () => {
    const f = new Faults();
    f.next([{ kind: "notFound" }, { kind: "serverError" }]);

    expect(f.forApi({ command: "get_cos_sig" })).toBeUndefined();
    expect(f.forDownload({ target: "media" })?.kind).toBe("notFound");
    expect(f.forDownload({ target: "history" })?.kind).toBe("serverError");
    expect(() => f.next({ kind: "notFound", match: { mediaUrl: "not a url" } })).toThrow(/mediaUrl/);
  });
});
