import { describe, expect, it } from "vitest";
import { mediaSign, mediaSignValid, openFileToken, sealFileToken } from "./tokens.ts";

describe("download tokens", () => {
  const t = {
    sdkAppId: 1400000000,
    chatType: "Group",
    msgTime: "2024010203",
    fileIndex: 2,
    firstMessage: 4096,
    messageCount: 1000,
    gzipSize: 123456,
    expires: 1700000000,
  };

  it("opens what it sealed, URL-safe", () => {
    const token = sealFileToken("k", t);

    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(openFileToken("k", token)).toEqual(t);
  });

  it("refuses a token sealed with another key or with its payload changed", () => {
    const token = sealFileToken("k", t);
    const other = sealFileToken("k", { ...t, expires: t.expires + 3600 });

    expect(openFileToken("other", token)).toBeUndefined();
    expect(openFileToken("k", `${other.split(".")[0]}.${token.split(".")[1]}`)).toBeUndefined();
    expect(openFileToken("k", "garbage")).toBeUndefined();
  });

  it("accepts a media sign only for the same path and expiry", () => {
    const sign = mediaSign("k", "b/p/x.png", 100);

    expect(mediaSignValid("k", "b/p/x.png", 100, sign)).toBe(true);
    expect(mediaSignValid("k", "b/p/x.png", 101, sign)).toBe(false);
    expect(mediaSignValid("k", "b/p/y.png", 100, sign)).toBe(false);
  });
});
