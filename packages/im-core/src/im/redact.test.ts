import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { redactText, sanitizeError } from "./redact.ts";

describe("redactText", () => {
  it.each([
    [
      "https://h/v4/a/b?sdkappid=1&usersig=eJw1y*-_abc&random=2",
      "https://h/v4/a/b?sdkappid=1&usersig=[redacted]&random=2",
    ],
    ["…?identifier=x&UserSig=abc", "…?identifier=x&UserSig=[redacted]"],
    ['{"url":"https://h?usersig=abc"}', '{"url":"https://h?usersig=[redacted]"}'],
    ["usersig=abc def usersig=ghi#frag", "usersig=[redacted] def usersig=[redacted]#frag"],
  ])("blanks the usersig parameter in %s, with no secrets given", (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it("blanks given secrets wherever they appear, but not ones too short to be real", () => {
    expect(redactText("key=0123456789abcdef and again 0123456789abcdef", ["0123456789abcdef"])).toBe(
      "key=[redacted] and again [redacted]",
    );
    expect(redactText("a b c", ["a"])).toBe("a b c");
  });
});

describe("sanitizeError", () => {
  it("copies the cause chain, AggregateError members and error codes with every text redacted", () => {
    const secret = "super-secret-key-42";
    const inner = Object.assign(new Error(`connect ECONNREFUSED for ?usersig=SIG123&x=1 ${secret}`), {
      code: "ECONNREFUSED",
      port: 443,
      hostname: `h-${secret}`,
      config: { key: secret }, // not kept: only known primitive properties are
    });
    const original = new TypeError("fetch failed", { cause: new AggregateError([inner], "all failed") });

    const copy = sanitizeError(original, [secret]) as Error;

    const text = inspect(copy, { depth: 10 });
    expect(text).not.toContain(secret);
    expect(text).not.toContain("SIG123");
    expect(copy.name).toBe("TypeError");
    const members = (copy.cause as AggregateError & { errors: unknown[] }).errors as Array<
      Record<string, unknown>
    >;
    expect(members[0]).toMatchObject({ code: "ECONNREFUSED", port: 443, hostname: "h-[redacted]" });
    expect(members[0]!.config).toBeUndefined();
  });

  it("turns a thrown non-Error into redacted text", () => {
    expect(sanitizeError("boom usersig=abc")).toBe("boom usersig=[redacted]");
    expect(sanitizeError({ url: "?usersig=abc" })).toBe("{ url: '?usersig=[redacted]' }");
  });
});
