import { describe, expect, it } from "vitest";
import { AuthError } from "../errors.ts";
import { createAuthenticator } from "./auth.ts";

const keys = [
  { name: "ops", token: "tok-ops-4f1c2b0a9e" },
  { name: "moderation", token: "tok-mod-9a8b7c6d5e" },
];

function reason(authenticate: ReturnType<typeof createAuthenticator>, header: string | undefined): unknown {
  try {
    authenticate(header);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return (error as AuthError).details?.reason;
  }
  throw new Error("expected an AuthError");
}

describe("createAuthenticator", () => {
  const authenticate = createAuthenticator(keys);

  it("answers the name of the key whose token is presented", () => {
    expect(authenticate("Bearer tok-ops-4f1c2b0a9e")).toEqual({ keyName: "ops" });
    expect(authenticate("Bearer tok-mod-9a8b7c6d5e")).toEqual({ keyName: "moderation" });
  });

  it("accepts the scheme in any case, as RFC 7235 says", () => {
    expect(authenticate("bearer tok-mod-9a8b7c6d5e")).toEqual({ keyName: "moderation" });
  });

  it("rejects a missing or blank header as missing", () => {
    expect(reason(authenticate, undefined)).toBe("missing");
    expect(reason(authenticate, "  ")).toBe("missing");
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "tok-ops-4f1c2b0a9e", "Bearer a b"])(
    "rejects the malformed header %j",
    (header) => {
      expect(reason(authenticate, header)).toBe("malformed");
    },
  );

  it("rejects an unknown token, a prefix of a real one, and a real one with a suffix", () => {
    expect(reason(authenticate, "Bearer nope")).toBe("invalid");
    expect(reason(authenticate, "Bearer tok-ops-4f1c2")).toBe("invalid");
    expect(reason(authenticate, "Bearer tok-ops-4f1c2b0a9eX")).toBe("invalid");
  });

  it("rejects every token when no key is configured", () => {
    expect(reason(createAuthenticator([]), "Bearer tok-ops-4f1c2b0a9e")).toBe("invalid");
  });

  it("never puts the presented token into the error", () => {
    try {
      authenticate("Bearer secret-guess-123");
    } catch (error) {
      expect(JSON.stringify({ m: (error as Error).message, d: (error as AuthError).details })).not.toContain(
        "secret-guess-123",
      );
    }
    expect.assertions(1);
  });
});
