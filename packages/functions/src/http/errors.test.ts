import {
  AuthError,
  ConfigError,
  hintFor,
  ImApiError,
  ImTransportError,
  IntegrityError,
  NotFoundError,
  PayloadTooLargeError,
  TimeoutError,
  ValidationError,
} from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import { MethodNotAllowedError, toHttpError } from "./errors.ts";

const apiError = (code: number, info = "error") =>
  new ImApiError({
    command: "im_cos_msg/get_cos_sig",
    code,
    info,
    requestId: "tencent-req-1",
    retryable: false,
    hint: hintFor(code),
  });

describe("toHttpError", () => {
  it("maps a ValidationError to 400 with its details", () => {
    const mapped = toHttpError(new ValidationError("bad item", { items: [{ index: 0, problems: ["x"] }] }));
    expect(mapped.status).toBe(400);
    expect(mapped.body).toEqual({
      error: {
        code: "invalid_request",
        message: "bad item",
        details: { items: [{ index: 0, problems: ["x"] }] },
      },
    });
  });

  it("maps an AuthError to 401 with WWW-Authenticate: Bearer", () => {
    const mapped = toHttpError(new AuthError("invalid API token"));
    expect(mapped.status).toBe(401);
    expect(mapped.headers["www-authenticate"]).toBe("Bearer");
    expect(mapped.body.error.code).toBe("unauthorized");
  });

  it("maps NotFoundError to 404, MethodNotAllowedError to 405 with Allow, PayloadTooLargeError to 413", () => {
    expect(toHttpError(new NotFoundError("no hour")).status).toBe(404);
    const notAllowed = toHttpError(new MethodNotAllowedError("GET", "/v1/cos-sig", ["POST"]));
    expect([notAllowed.status, notAllowed.headers.allow]).toEqual([405, "POST"]);
    const tooLarge = toHttpError(new PayloadTooLargeError(1024, 5000));
    expect([tooLarge.status, tooLarge.body.error.code, tooLarge.body.error.details]).toEqual([
      413,
      "payload_too_large",
      { limitBytes: 1024, actualBytes: 5000 },
    ]);
  });

  it.each([60007, 60011, 60018, 60019])("maps Tencent rate limit %i to 429 with a Retry-After", (code) => {
    const mapped = toHttpError(apiError(code));
    expect(mapped.status).toBe(429);
    expect(mapped.headers["retry-after"]).toBe("10");
    expect(mapped.body.error.message).toContain(String(code));
  });

  it("maps 70050 (bad sig, locked) to 429 with a minute's Retry-After and the key to check", () => {
    const mapped = toHttpError(apiError(70050));
    expect([mapped.status, mapped.headers["retry-after"]]).toEqual([429, "60"]);
    expect(mapped.body.error.message).toContain("IM_SECRET_KEY");
  });

  it("maps an HTTP 429 from in front of Tencent to 429", () => {
    expect(toHttpError(new ImTransportError("HTTP 429", { status: 429 })).status).toBe(429);
  });

  it("maps TimeoutError, Tencent 60008 and an expired request deadline to 504", () => {
    expect(toHttpError(new TimeoutError("slow")).status).toBe(504);
    expect(toHttpError(apiError(60008)).status).toBe(504);
    const deadline = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(toHttpError(deadline).status).toBe(504);
  });

  it.each([
    [70009, "IM_SECRET_KEY"],
    [60006, "IM_SDKAPPID"],
    [70016, "IM_REGION"],
    [60021, "IP"],
  ])("maps Tencent %i to 502 naming the code and what to check (%s)", (code, check) => {
    const mapped = toHttpError(apiError(code));
    expect(mapped.status).toBe(502);
    expect(mapped.body.error.code).toBe("upstream_error");
    expect(mapped.body.error.message).toContain(String(code));
    expect(mapped.body.error.message).toContain(check);
    expect(mapped.body.error.details).toMatchObject({ code, requestId: "tencent-req-1" });
  });

  it("maps an unlisted Tencent code to 502 that points to Tencent's code list", () => {
    const mapped = toHttpError(apiError(80001));
    expect(mapped.status).toBe(502);
    expect(mapped.body.error.message).toMatch(/80001.*error code list/);
  });

  it("maps a transport failure to 502 that says what to check", () => {
    const mapped = toHttpError(new ImTransportError("Tencent IM call failed: ECONNREFUSED", { status: 503 }));
    expect(mapped.status).toBe(502);
    expect(mapped.body.error.message).toMatch(/IM_BASE_URL/);
  });

  it.each([
    ["a plain Error", new Error("db password is hunter2")],
    ["a ConfigError", new ConfigError("IM_SECRET_KEY", "is missing")],
    ["an IntegrityError", new IntegrityError("manifest is malformed")],
    ["a thrown string", "boom"],
  ])("maps %s to a generic 500 that repeats nothing of it", (_what, error) => {
    const mapped = toHttpError(error);
    expect(mapped.status).toBe(500);
    expect(mapped.body).toEqual({
      error: {
        code: "internal_error",
        message: "internal error; the request id in the logs tells an operator more",
      },
    });
  });

  it("redacts a usersig that found its way into a message or details", () => {
    const mapped = toHttpError(
      new ImTransportError("failed GET https://x/v4/a/b?usersig=eJyrVkrLLi0pSS3OL0pRslIy"),
    );
    expect(JSON.stringify(mapped.body)).not.toContain("eJyrVkrLLi0pSS3OL0pRslIy");
  });
});
