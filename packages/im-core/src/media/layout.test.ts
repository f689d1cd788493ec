import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { DEFAULT_COS_URL_HOSTS } from "../schemas/limits.ts";
import {
  checkMediaKey,
  isCosMediaUrl,
  legacyMediaIndexKeyFor,
  mediaIndexKeyFor,
  mediaKey,
  mediaManifestKey,
} from "./layout.ts";

const COS =
  "https://cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400187352/0612-yyy/9a0f4c42d208ccfb5aa47c29284aefc6.png";

describe("mediaKey", () => {
  it("is media/{host}/{path} of the RawURL, without its query or fragment", () => {
    const want =
      "media/cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400187352/0612-yyy/9a0f4c42d208ccfb5aa47c29284aefc6.png";

    expect(mediaKey(COS)).toBe(want);
    expect(mediaKey(`${COS}?imageMogr2/thumbnail/198x#x`)).toBe(want);
    expect(mediaKey(COS.replace("https://cos.", "http://COS."))).toBe(want);
  });

  it("keeps a non-ASCII or space-holding name as one percent-encoded spelling", () => {
    expect(mediaKey("https://a.myqcloud.com/b/报告 1.pdf")).toBe(
      "media/a.myqcloud.com/b/%E6%8A%A5%E5%91%8A%201.pdf",
    );
    expect(mediaKey("https://a.myqcloud.com/b/%E6%8A%A5%E5%91%8A%201.pdf")).toBe(
      "media/a.myqcloud.com/b/%E6%8A%A5%E5%91%8A%201.pdf",
    );
  });

  it.each([
    ["a dot-dot segment", "https://a.myqcloud.com/b/../../etc/passwd", "dot segment"],
    ["an encoded dot-dot segment", "https://a.myqcloud.com/b/%2e%2E/c", "dot segment"],
    ["a dot segment", "https://a.myqcloud.com/./c", "dot segment"],
    ["an empty segment", "https://a.myqcloud.com/b//c", "empty segment"],
    ["a trailing slash", "https://a.myqcloud.com/b/", "empty segment"],
    ["no path", "https://a.myqcloud.com", "empty path"],
    ["a backslash", "https://a.myqcloud.com/b\\..\\c", "backslash"],
    ["a control character", "https://a.myqcloud.com/b\tc", "control"],
    ["credentials", "https://u:p@a.myqcloud.com/b", "credentials"],
    ["another scheme", "file:///etc/passwd", "not http(s)"],
    ["ftp", "ftp://a.myqcloud.com/b", "not http(s)"],
    ["a relative URL", "/b/c.png", "not an absolute URL"],
    ["a huge name", `https://a.myqcloud.com/${"x".repeat(256)}`, "longer than 255"],
  ])("refuses a URL with %s", (_what, url, problem) => {
    const check = checkMediaKey(url);

    expect("problem" in check && check.problem).toContain(problem);
    expect(() => mediaKey(url)).toThrow(ValidationError);
  });
});

describe("media keys of manifests and index entries", () => {
  it("puts the hour's media manifest next to its partition values", () => {
    expect(mediaManifestKey("C2C", "2024030118")).toBe(
      "media-manifests/chat_type=C2C/dt=2024-03-01/hour=18.json",
    );
    expect(mediaManifestKey("Group", "2024123100")).toBe(
      "media-manifests/chat_type=Group/dt=2024-12-31/hour=00.json",
    );
  });

  it("records an object's index entry under media-index/, named by its key's SHA-256 in one of sixteen directories", () => {
    const key = "media/h.myqcloud.com/a/b.png";
    const h = createHash("sha256").update(key).digest("hex");

    expect(mediaIndexKeyFor(key)).toBe(`media-index/${h[0]}/${h}.json`);
    expect(legacyMediaIndexKeyFor(key)).toBe("media-index/h.myqcloud.com/a/b.png.json");
    expect(() => mediaIndexKeyFor("raw/x")).toThrow(ValidationError);
    expect(() => legacyMediaIndexKeyFor("raw/x")).toThrow(ValidationError);
  });
});

describe("isCosMediaUrl", () => {
  it("accepts http and https RawURLs on the COS media hosts, nothing else", () => {
    expect(isCosMediaUrl(COS, DEFAULT_COS_URL_HOSTS)).toBe(true);
    expect(isCosMediaUrl(COS.replace("https:", "http:"), DEFAULT_COS_URL_HOSTS)).toBe(true);
    expect(isCosMediaUrl("https://example.com/a.png", DEFAULT_COS_URL_HOSTS)).toBe(false);
    expect(isCosMediaUrl("https://myqcloud.com.evil.com/a.png", DEFAULT_COS_URL_HOSTS)).toBe(false);
    expect(isCosMediaUrl("not a url", DEFAULT_COS_URL_HOSTS)).toBe(false);
  });
});
