import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { DEFAULT_COS_URL_HOSTS } from "../schemas/limits.ts";
import { MAX_RAW_URL_LENGTH, validateCosSigRequest } from "./validate-cos-sig.ts";

const URL_A =
  "https://cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400187352/0612-yyy/9a0f4c42d208ccfb5aa47c29284aefc6.png";
const URL_B = URL_A.replace("c6.png", "c7.png");
const limits = { maxItems: 3, allowHosts: DEFAULT_COS_URL_HOSTS };

/** The ValidationError the body raises (fails the test if it raises nothing). */
function rejection(body: unknown, l = limits): ValidationError {
  try {
    validateCosSigRequest(body, l);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

describe("validateCosSigRequest", () => {
  it("accepts Tencent's own example body and returns its items in order", () => {
    const items = [
      { ResourceID: 1, RawURL: URL_A },
      { ResourceID: 2, RawURL: URL_B },
    ];
    expect(validateCosSigRequest({ RawURLs: items }, limits)).toEqual(items);
  });

  it("accepts ResourceID 0 and 4294967295 (the uint32 bounds)", () => {
    const items = [
      { ResourceID: 0, RawURL: URL_A },
      { ResourceID: 4294967295, RawURL: URL_B },
    ];
    expect(validateCosSigRequest({ RawURLs: items }, limits)).toHaveLength(2);
  });

  it.each([
    ["null", null],
    ["an array", [{ ResourceID: 1, RawURL: URL_A }]],
    ["a string", "RawURLs"],
  ])("rejects a body that is %s", (_what, body) => {
    expect(rejection(body).message).toMatch(/JSON object/);
  });

  it("rejects top-level fields other than RawURLs, naming them", () => {
    const error = rejection({ RawURLs: [{ ResourceID: 1, RawURL: URL_A }], Extra: 1 });
    expect(error.message).toContain("Extra");
    expect(error.details).toEqual({ fields: ["Extra"] });
  });

  it("rejects a missing or non-array RawURLs", () => {
    expect(rejection({}).message).toMatch(/RawURLs must be an array/);
    expect(rejection({ RawURLs: "x" }).message).toMatch(/RawURLs must be an array/);
  });

  it("rejects zero items and more than maxItems", () => {
    expect(rejection({ RawURLs: [] }).message).toMatch(/1 to 3 items, got 0/);
    const four = [1, 2, 3, 4].map((id) => ({ ResourceID: id, RawURL: URL_A.replace(".png", `${id}.png`) }));
    expect(rejection({ RawURLs: four }).details).toEqual({ count: 4, maxItems: 3 });
  });

  it.each([
    ["a negative ResourceID", { ResourceID: -1, RawURL: URL_A }, /ResourceID must be an integer/],
    ["a fractional ResourceID", { ResourceID: 1.5, RawURL: URL_A }, /ResourceID must be an integer/],
    ["a ResourceID above uint32", { ResourceID: 4294967296, RawURL: URL_A }, /ResourceID must be an integer/],
    ["a string ResourceID", { ResourceID: "1", RawURL: URL_A }, /ResourceID must be an integer/],
    ["no ResourceID", { RawURL: URL_A }, /ResourceID is missing/],
    ["no RawURL", { ResourceID: 1 }, /RawURL is missing/],
    ["a numeric RawURL", { ResourceID: 1, RawURL: 5 }, /RawURL must be a string/],
    ["an empty RawURL", { ResourceID: 1, RawURL: "" }, /RawURL is empty/],
    ["a relative RawURL", { ResourceID: 1, RawURL: "/a/b.png" }, /not an absolute URL/],
    [
      "an http RawURL",
      { ResourceID: 1, RawURL: URL_A.replace("https:", "http:") },
      /must be https, got http/,
    ],
    [
      "a foreign host",
      { ResourceID: 1, RawURL: "https://evil.example.com/a.png" },
      /host evil\.example\.com is not/,
    ],
    [
      "a look-alike host",
      { ResourceID: 1, RawURL: "https://myqcloud.com.evil.io/a.png" },
      /is not on the allowed/,
    ],
    [
      "credentials in the URL",
      { ResourceID: 1, RawURL: "https://u:p@cos.myqcloud.com/a.png" },
      /credentials/,
    ],
    [
      "an extra item field",
      { ResourceID: 1, RawURL: URL_A, Note: "x" },
      /fields other than ResourceID and RawURL: Note/,
    ],
    ["a non-object item", "https://cos.myqcloud.com/a.png", /must be an object/],
  ])("rejects an item with %s, naming its index", (_what, item, reason) => {
    const error = rejection({ RawURLs: [{ ResourceID: 7, RawURL: URL_B }, item] });
    expect(error.message).toMatch(/item 1\b/);
    expect(error.message).toMatch(reason);
    const bad = (error.details as { items: { index: number; problems: string[] }[] }).items;
    expect(bad).toHaveLength(1);
    expect(bad[0]?.index).toBe(1);
  });

  it("rejects a RawURL longer than the cap", () => {
    const long = `https://cos.myqcloud.com/${"a".repeat(MAX_RAW_URL_LENGTH)}`;
    expect(rejection({ RawURLs: [{ ResourceID: 1, RawURL: long }] }).message).toMatch(/more than 2048/);
  });

  it("rejects a duplicated ResourceID, naming both items", () => {
    const error = rejection({
      RawURLs: [
        { ResourceID: 9, RawURL: URL_A },
        { ResourceID: 9, RawURL: URL_B },
      ],
    });
    expect(error.message).toContain("item 1 (ResourceID 9): ResourceID 9 is already used by item 0");
  });

  it("lists every bad item in details, with index, ResourceID and every problem", () => {
    const error = rejection({
      RawURLs: [
        { ResourceID: 1, RawURL: "https://evil.example.com/x" },
        { ResourceID: 2, RawURL: URL_A },
        { ResourceID: -3, RawURL: "ftp://cos.myqcloud.com/x" },
      ],
    });
    expect(error.message).toMatch(/^2 of 3 RawURLs items are invalid/);
    expect(error.details).toEqual({
      items: [
        { index: 0, ResourceID: 1, problems: [expect.stringMatching(/host evil\.example\.com/)] },
        {
          index: 2,
          ResourceID: -3,
          problems: [
            expect.stringMatching(/ResourceID must be an integer/),
            expect.stringMatching(/must be https/),
          ],
        },
      ],
    });
  });

  it("follows a configured allow-list (COS_URL_HOSTS) instead of the default", () => {
    const custom = { maxItems: 3, allowHosts: ["media.example.org"] };
    expect(
      validateCosSigRequest({ RawURLs: [{ ResourceID: 1, RawURL: "https://media.example.org/a" }] }, custom),
    ).toHaveLength(1);
    expect(rejection({ RawURLs: [{ ResourceID: 1, RawURL: URL_A }] }, custom).message).toMatch(
      /not on the allowed/,
    );
  });

  it("accepts plain http only from an allow-list entry that is an explicit http origin", () => {
    const custom = { maxItems: 3, allowHosts: ["http://127.0.0.1:8080"] };
    const ok = { RawURLs: [{ ResourceID: 1, RawURL: "http://127.0.0.1:8080/cos/a.png" }] };
    expect(validateCosSigRequest(ok, custom)).toHaveLength(1);
    expect(
      rejection({ RawURLs: [{ ResourceID: 1, RawURL: "http://127.0.0.1:9090/a" }] }, custom).message,
    ).toMatch(/must be https/);
  });
});
