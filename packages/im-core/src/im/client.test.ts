import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  drive,
  FakeClock,
  fail,
  networkError,
  ok,
  type RecordedRequest,
  recordingLogger,
  scriptedFetch,
  tencentAnswer,
} from "../../testing/im.ts";
import { ConfigError, ImApiError, ImTransportError, TimeoutError, ValidationError } from "../errors.ts";
import { ImClient, type ImClientOptions } from "./client.ts";
import { CONNECT_TIMEOUT_CODE } from "./transport.ts";
import { decodeUserSig, verifyUserSig } from "./usersig.ts";

const SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const APP = { sdkAppId: 1400000001, identifier: "administrator", secretKey: SECRET };

type Script = Parameters<typeof scriptedFetch>[1];

/** A client on a fake clock and a scripted fetch; a huge rate so the bucket stays out of the way. */
function setup(script: Script, options: Partial<ImClientOptions> = {}) {
  const clock = new FakeClock();
  const fetch = scriptedFetch(clock, script);
  const logger = recordingLogger();
  const client = new ImClient({
    ...APP,
    clock,
    fetch,
    logger,
    random: () => 0.5,
    ratePerSecond: 1_000_000,
    ...options,
  });
  const call = <T extends object = Record<string, unknown>>(
    body: object = {},
    callOptions: Parameters<ImClient["call"]>[3] = {},
  ) => drive(clock, client.call<T>("open_msg_svc", "get_history", body, callOptions));
  return { clock, fetch, logger, client, call };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const sigOf = (r: RecordedRequest) => r.url.searchParams.get("usersig")!;

/** The backoff delays the client announced in its "retrying" log lines. */
const retryDelays = (logger: ReturnType<typeof recordingLogger>) =>
  logger.lines.filter((l) => l.message === "im call retrying").map((l) => l.fields?.delayMs);

describe("ImClient requests", () => {
  it("POSTs JSON to the region's primary domain with sdkappid, identifier, a valid usersig, random and contenttype", async () => {
    const { fetch, call, clock } = setup([ok({ File: [] })]);

    const answer = await call({ ChatType: "C2C", MsgTime: "2024030108" });

    expect(answer).toEqual({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", File: [] });
    const [request] = fetch.requests;
    expect(request!.url.origin + request!.url.pathname).toBe(
      "https://console.tim.qq.com/v4/open_msg_svc/get_history",
    );
    expect([...request!.url.searchParams.keys()]).toEqual([
      "sdkappid",
      "identifier",
      "usersig",
      "random",
      "contenttype",
    ]);
    expect(request!.url.searchParams.get("sdkappid")).toBe("1400000001");
    expect(request!.url.searchParams.get("identifier")).toBe("administrator");
    expect(request!.url.searchParams.get("contenttype")).toBe("json");
    expect(request!.init?.method).toBe("POST");
    expect(new Headers(request!.init?.headers).get("content-type")).toBe("application/json");
    expect(request!.body).toEqual({ ChatType: "C2C", MsgTime: "2024030108" });
    const doc = verifyUserSig({ ...APP, sig: sigOf(request!), now: Math.floor(clock.now() / 1000) });
    expect(doc["TLS.expire"]).toBe(86_400);
    expect(doc["TLS.time"]).toBe(Math.floor(clock.now() / 1000));
  });

  it("sends a fresh uint32 random with every request", async () => {
    const { fetch, client, clock } = setup([ok()]);
    for (let i = 0; i < 20; i++) await drive(clock, client.call("a", "b", {}));
    const randoms = fetch.requests.map((r) => r.url.searchParams.get("random")!);
    for (const r of randoms) {
      expect(r).toMatch(/^\d+$/);
      expect(Number(r)).toBeLessThanOrEqual(4_294_967_295);
    }
    expect(new Set(randoms).size).toBe(20);
  });

  it.each([
    [{ region: "sgp" as const }, "https://adminapisgp.im.qcloud.com/v4/open_msg_svc/get_history"],
    [{ region: "ind" as const }, "https://adminapiind.im.qcloud.com/v4/open_msg_svc/get_history"],
    [{ baseUrl: "http://127.0.0.1:8080" }, "http://127.0.0.1:8080/v4/open_msg_svc/get_history"],
    [
      { baseUrl: "http://127.0.0.1:8080/prefix/", region: "sgp" as const },
      "http://127.0.0.1:8080/prefix/v4/open_msg_svc/get_history",
    ],
  ])("sends %j to %s", async (options, endpoint) => {
    const { fetch, call } = setup([ok()], options);
    await call();
    expect(fetch.requests[0]!.url.origin + fetch.requests[0]!.url.pathname).toBe(endpoint);
  });

  it("refuses service or command names that would change the URL's path or query", async () => {
    const { client, fetch } = setup([ok()]);
    await expect(client.call("open_msg_svc/../x", "get_history", {})).rejects.toThrow(ValidationError);
    await expect(client.call("open_msg_svc", "get_history?x=1", {})).rejects.toThrow(ValidationError);
    expect(fetch.requests).toHaveLength(0);
  });

  it.each([
    [{ sdkAppId: 0 }, "sdkAppId"],
    [{ sdkAppId: 1.5 }, "sdkAppId"],
    [{ identifier: "" }, "identifier"],
    [{ secretKey: "" }, "secretKey"],
    [{ region: "mars" as never }, "region"],
    [{ baseUrl: "not a url" }, "baseUrl"],
    [{ baseUrl: "ftp://127.0.0.1" }, "baseUrl"],
    [{ ratePerSecond: 0 }, "ratePerSecond"],
    [{ maxAttempts: 0 }, "maxAttempts"],
    [{ timeoutMs: -1 }, "timeoutMs"],
    [{ sigTtlSeconds: 1.5 }, "sigTtlSeconds"],
  ])("refuses the option %j with a ConfigError naming %s", (options, setting) => {
    const error = (() => {
      try {
        new ImClient({ ...APP, ...options });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.setting).toBe(setting);
    expect(error.message).not.toContain(SECRET);
  });
});

describe("ImClient retries", () => {
  it.each([60008, 60013, 60014])(
    "retries code %i with backoff and returns the answer that follows",
    async (code) => {
      const { fetch, call, logger } = setup([fail(code), ok({ Value: 1 })]);
      expect(await call()).toMatchObject({ Value: 1 });
      expect(fetch.requests).toHaveLength(2);
      expect(retryDelays(logger)).toEqual([125]); // random 0.5 × base 250
      expect(fetch.requests[1]!.at - fetch.requests[0]!.at).toBe(125);
    },
  );

  it.each([60007, 60011, 60018, 60019])(
    "retries rate limit %i only once Tencent's one-second window has passed, with jitter from a second up",
    async (code) => {
      const draws = [0, 0.5, 0.999];
      const { fetch, call, logger } = setup([fail(code), fail(code), fail(code), ok({ Value: 1 })], {
        random: () => draws.shift()!,
      });

      expect(await call()).toMatchObject({ Value: 1 });

      const gaps = fetch.requests.slice(1).map((r, i) => r.at - fetch.requests[i]!.at);
      // 1000 + random × min(maxDelayMs, 1000·2^n) for n = 0..2
      expect(gaps).toEqual([1_000, 2_000, 4_996]);
      expect(retryDelays(logger)).toEqual(gaps);
    },
  );

  it("backs off exponentially with full jitter, capped at maxDelayMs, and gives up after maxAttempts", async () => {
    const { fetch, call, clock, logger } = setup([fail(60008, "too slow")], {
      maxAttempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.999,
    });

    const error = await rejection(call());

    expect(fetch.requests).toHaveLength(6);
    // 0.999 × min(1000, 100·2^n) for n = 0..4
    expect(clock.sleeps.filter((ms) => ms !== 20_000)).toEqual([99, 199, 399, 799, 999]);
    expect(retryDelays(logger)).toEqual([99, 199, 399, 799, 999]);
    expect(fetch.requests.map((r) => r.at - fetch.requests[0]!.at)).toEqual([0, 99, 298, 697, 1496, 2495]);
    expect(error).toBeInstanceOf(ImApiError);
    expect(error).toMatchObject({
      code: 60008,
      info: "too slow",
      retryable: true,
      command: "open_msg_svc/get_history",
    });
    const retries = logger.lines.filter((l) => l.message === "im call retrying");
    expect(retries.map((l) => [l.level, l.fields?.attempt, l.fields?.delayMs])).toEqual([
      ["warn", 1, 99],
      ["warn", 2, 199],
      ["warn", 3, 399],
      ["warn", 4, 799],
      ["warn", 5, 999],
    ]);
    expect(logger.lines.at(-1)).toMatchObject({
      level: "warn",
      message: "im call failed",
      fields: { attempt: 6, code: 60008 },
    });
  });

  it("draws each delay from the injected random: 0 means no wait", async () => {
    const { call, logger } = setup([fail(60008), fail(60008), ok()], { random: () => 0 });
    await call();
    expect(retryDelays(logger)).toEqual([0, 0]);
  });

  it.each([
    ["a network error", networkError("ECONNRESET")],
    ["HTTP 502", new Response("<html>Bad Gateway</html>", { status: 502 })],
    ["HTTP 503", new Response("", { status: 503 })],
    ["a body that is not JSON", new Response("<html>oops</html>", { status: 200 })],
    ["a JSON body without ActionStatus", tencentAnswer({ hello: 1 })],
  ])("retries after %s", async (_what, first) => {
    const { fetch, call } = setup([first, ok({ Value: 2 })]);
    expect(await call()).toMatchObject({ Value: 2 });
    expect(fetch.requests).toHaveLength(2);
  });

  it("throws ImTransportError with the HTTP status once 5xx answers use up the attempts", async () => {
    const { fetch, call } = setup([new Response("bad gateway", { status: 502 })], { maxAttempts: 3 });
    const error = await rejection(call());
    expect(fetch.requests).toHaveLength(3);
    expect(error).toBeInstanceOf(ImTransportError);
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect(error.message).toMatch(/HTTP 502 \(attempt 3\)/);
  });

  it("does not retry an HTTP status that means the URL is wrong (404)", async () => {
    const { fetch, call } = setup([new Response("not found", { status: 404 }), ok()]);
    const error = await rejection(call());
    expect(fetch.requests).toHaveLength(1);
    expect(error).toMatchObject({ name: "ImTransportError", status: 404, retryable: false });
  });

  it("times out an attempt after timeoutMs on the injected clock and retries it", async () => {
    const { fetch, call, clock } = setup(["hang", ok({ Value: 3 })], { timeoutMs: 5_000 });
    const start = clock.now();
    expect(await call()).toMatchObject({ Value: 3 });
    expect(fetch.requests.map((r) => r.at - start)).toEqual([0, 5_000 + 125]);
  });

  it("throws TimeoutError when every attempt times out", async () => {
    const { fetch, call } = setup(["hang"], { timeoutMs: 1_000, maxAttempts: 2 });
    const error = await rejection(call());
    expect(fetch.requests).toHaveLength(2);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toMatch(/did not answer within 1000 ms \(attempt 2\)/);
  });

  it.each([
    [60004, /IM_ADMIN.*IM_SECRET_KEY/],
    [60005, /IM_SECRET_KEY/],
    [60006, /IM_SDKAPPID/],
    [60010, /App admin/],
    [60020, /billing/],
    [60021, /IP/],
    [70003, /IM_SECRET_KEY/],
    [70009, /secret key \(IM_SECRET_KEY\) does not match/],
    [70013, /IM_ADMIN/],
    [70014, /IM_SDKAPPID/],
    [70016, /region/],
    [70020, /region/],
    [70051, /blacklisted/],
    [1002, /App admin/],
    [1004, /no info$/],
    [1005, /no info$/],
  ])("does not retry code %i and names what to check: %s", async (code, hint) => {
    const { fetch, call } = setup([fail(code, "", { RequestId: "req-1" }), ok()]);
    const error = await rejection(call());
    expect(fetch.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ImApiError);
    expect(error).toMatchObject({ code, retryable: false, requestId: "req-1" });
    expect(error.message).toContain(`code ${code}`);
    expect(error.message).toMatch(hint);
  });

  it("retries a call-specific code only when the call says so (get_history's 1003)", async () => {
    const plain = setup([fail(1003, "system error"), ok()]);
    expect(await rejection(plain.call())).toMatchObject({ code: 1003, retryable: false });
    expect(plain.fetch.requests).toHaveLength(1);

    const declared = setup([fail(1003, "system error"), ok({ Value: 4 })]);
    expect(await declared.call({}, { extraRetryableCodes: [1003] })).toMatchObject({ Value: 4 });
    expect(declared.fetch.requests).toHaveLength(2);

    const exhausted = setup([fail(1003, "system error")], { maxAttempts: 2 });
    expect(await rejection(exhausted.call({}, { extraRetryableCodes: [1003] }))).toMatchObject({
      code: 1003,
      retryable: true,
    });
    expect(exhausted.fetch.requests).toHaveLength(2);
  });

  it("waits a full minute once on 70050 (bad sig, locked), then surfaces a second 70050 as retryable", async () => {
    const { fetch, call } = setup([fail(70050, "locked")]);
    const error = await rejection(call());
    expect(fetch.requests).toHaveLength(2);
    const gap = fetch.requests[1]!.at - fetch.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(60_000);
    expect(gap).toBeLessThanOrEqual(66_000);
    expect(error).toMatchObject({ code: 70050, retryable: true });
    expect(error.message).toMatch(/IM_SECRET_KEY/);
  });

  it("returns the answer after one 70050 and the minute's wait", async () => {
    const { fetch, call } = setup([fail(70050, "locked"), ok({ Value: 5 })]);
    expect(await call()).toMatchObject({ Value: 5 });
    expect(fetch.requests).toHaveLength(2);
  });

  it("stops waiting and rejects with the signal's reason when the caller aborts during a backoff", async () => {
    const { fetch, client, clock } = setup([fail(60007)], { baseDelayMs: 10_000, random: () => 1 });
    const controller = new AbortController();
    const pending = client.call("a", "b", {}, { signal: controller.signal });
    const outcome = rejection(pending);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fetch.requests).toHaveLength(1);
    controller.abort(new Error("caller gave up"));
    expect((await outcome).message).toBe("caller gave up");
    clock.advance(60_000);
    expect(fetch.requests).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});

describe("ImClient UserSig", () => {
  it("regenerates the sig on 70001 and retries once, straight away", async () => {
    const { fetch, client, clock, logger } = setup([ok(), fail(70001, "sig expired"), ok({ Value: 6 })]);
    await drive(clock, client.call("a", "b", {}));
    clock.advance(3_600_000); // the cached sig is still fresh by our clock

    expect(await drive(clock, client.call("a", "b", {}))).toMatchObject({ Value: 6 });

    const [first, rejected, retried] = fetch.requests.map((r) => decodeUserSig(sigOf(r)));
    expect(rejected!["TLS.time"]).toBe(first!["TLS.time"]); // cached
    expect(retried!["TLS.time"]).toBe(first!["TLS.time"] + 3600); // regenerated
    expect(retryDelays(logger)).toEqual([]); // no backoff
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: "warn", fields: expect.objectContaining({ code: 70001 }) }),
    );
  });

  it("surfaces a second 70001 as ImApiError naming the clock, after exactly two requests", async () => {
    const { fetch, call } = setup([fail(70001, "sig expired")], { maxAttempts: 1 });
    const error = await rejection(call());
    expect(fetch.requests).toHaveLength(2);
    expect(error).toMatchObject({ code: 70001, retryable: false });
    expect(error.message).toMatch(/clock/);
  });

  it("caches the sig and renews it once less than a quarter of its validity is left", async () => {
    const { fetch, client, clock } = setup([ok()], { sigTtlSeconds: 86_400 });
    const t0 = clock.now();
    const at = async (seconds: number) => {
      clock.advance(t0 + seconds * 1000 - clock.now());
      await drive(clock, client.call("a", "b", {}));
      return sigOf(fetch.requests.at(-1)!);
    };
    const first = await at(0);
    expect(await at(3_600)).toBe(first);
    expect(await at(64_799)).toBe(first); // 21_601 s left
    const renewed = await at(64_800); // 21_600 s = a quarter left
    expect(renewed).not.toBe(first);
    expect(decodeUserSig(renewed)["TLS.time"]).toBe(Math.floor(t0 / 1000) + 64_800);
    expect(await at(64_801)).toBe(renewed);
  });

  it("renews at least 5 minutes before expiry when the ttl is short", async () => {
    const { fetch, client, clock } = setup([ok()], { sigTtlSeconds: 600 });
    await drive(clock, client.call("a", "b", {}));
    clock.advance(299_000);
    await drive(clock, client.call("a", "b", {}));
    clock.advance(1_000); // 300 s left
    await drive(clock, client.call("a", "b", {}));
    const times = fetch.requests.map((r) => decodeUserSig(sigOf(r))["TLS.time"]);
    expect(times[1]).toBe(times[0]);
    expect(times[2]).toBe(times[0]! + 300);
  });
});

describe("ImClient domains", () => {
  const unreachable = (host: string) => (r: RecordedRequest) =>
    r.url.hostname === host
      ? networkError("ENOTFOUND", `getaddrinfo ENOTFOUND ${host}`)
      : ok({ Host: r.url.hostname });

  it("moves to the backup domain when the primary cannot be resolved, and stays there", async () => {
    const { fetch, client, clock, logger } = setup([unreachable("console.tim.qq.com")]);

    expect(await drive(clock, client.call("a", "b", {}))).toMatchObject({ Host: "adminapi.my-imcloud.com" });
    expect(await drive(clock, client.call("a", "b", {}))).toMatchObject({ Host: "adminapi.my-imcloud.com" });

    expect(fetch.requests.map((r) => r.url.hostname)).toEqual([
      "console.tim.qq.com",
      "adminapi.my-imcloud.com",
      "adminapi.my-imcloud.com",
    ]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        fields: expect.objectContaining({ nextHost: "adminapi.my-imcloud.com" }),
      }),
    );
  });

  it("goes back to the primary when the backup cannot be reached either", async () => {
    const { fetch, call } = setup([
      networkError("ECONNREFUSED"),
      networkError("EHOSTUNREACH"),
      (r) => ok({ Host: r.url.hostname }),
    ]);
    expect(await call()).toMatchObject({ Host: "console.tim.qq.com" });
    expect(fetch.requests.map((r) => r.url.hostname)).toEqual([
      "console.tim.qq.com",
      "adminapi.my-imcloud.com",
      "console.tim.qq.com",
    ]);
  });

  it.each(["UND_ERR_CONNECT_TIMEOUT", CONNECT_TIMEOUT_CODE])(
    "counts a connect timeout (%s) as unreachable and moves to the backup domain",
    async (code) => {
      const { fetch, call } = setup([networkError(code), (r) => ok({ Host: r.url.hostname })]);
      expect(await call()).toMatchObject({ Host: "adminapi.my-imcloud.com" });
      expect(fetch.requests.map((r) => r.url.hostname)).toEqual([
        "console.tim.qq.com",
        "adminapi.my-imcloud.com",
      ]);
    },
  );

  it("stays on the primary domain after HTTP errors and resets (the host was reached)", async () => {
    const { fetch, call } = setup([
      new Response("bad gateway", { status: 502 }),
      networkError("ECONNRESET"),
      fail(60008),
      ok(),
    ]);
    await call();
    expect(new Set(fetch.requests.map((r) => r.url.hostname))).toEqual(new Set(["console.tim.qq.com"]));
  });

  it("has no backup with a baseUrl: it retries the same URL", async () => {
    const { fetch, call } = setup([networkError("ECONNREFUSED"), ok()], { baseUrl: "http://127.0.0.1:9" });
    await call();
    expect(fetch.requests.map((r) => r.url.host)).toEqual(["127.0.0.1:9", "127.0.0.1:9"]);
  });
});

describe("ImClient rate limit", () => {
  it("sends 25 concurrent calls at 10 calls/s as bursts of 10 a second apart, on the injected clock", async () => {
    const { fetch, client, clock } = setup([ok()], { ratePerSecond: 10 });
    const start = clock.now();
    await drive(clock, Promise.all(Array.from({ length: 25 }, () => client.call("a", "b", {}))));
    expect(fetch.requests.map((r) => r.at - start)).toEqual(
      Array.from({ length: 25 }, (_, i) => Math.floor(i / 10) * 1000),
    );
    expect(clock.now() - start).toBe(2_000);
  });

  it("counts retries against the same budget as first tries", async () => {
    const { fetch, client, clock } = setup([fail(60008), ok()], { ratePerSecond: 2, random: () => 0 });
    const start = clock.now();
    await drive(clock, Promise.all([client.call("a", "b", {}), client.call("a", "b", {})]));
    // 3 requests (one retried) at 2/s: two at once, the retry a second later
    expect(fetch.requests.map((r) => r.at - start)).toEqual([0, 0, 1000]);
  });

  it("takes every request's turn, retries and 70001's included, from an injected rate limit", async () => {
    const turns: number[] = [];
    const rateLimit = {
      take: async () => {
        turns.push(turns.length);
      },
    };
    const { fetch, call } = setup([fail(60008), fail(70001), ok()], { rateLimit, ratePerSecond: 1 });

    await call();

    expect(fetch.requests).toHaveLength(3);
    expect(turns).toHaveLength(3);
  });

  it("lets calls through without waiting after a quiet spell", async () => {
    const { fetch, client, clock } = setup([ok()], { ratePerSecond: 4 });
    await drive(clock, client.call("a", "b", {}));
    clock.advance(10_000);
    const before = clock.now();
    await drive(clock, client.call("a", "b", {}));
    expect(fetch.requests[1]!.at).toBe(before);
  });
});

describe("ImClient keeps secrets out of errors and logs", () => {
  /** Every text an error can show: message, stack, details, JSON, inspect, down the cause chain. */
  function everyText(error: unknown): string {
    const parts: string[] = [inspect(error, { depth: 10 }), JSON.stringify(error)];
    let current: unknown = error;
    for (let depth = 0; current !== undefined && depth < 10; depth++) {
      if (current instanceof Error) {
        parts.push(
          current.message,
          String(current.stack),
          JSON.stringify(current, Object.getOwnPropertyNames(current)),
        );
        if (current instanceof AggregateError) parts.push(...current.errors.map(everyText));
        current = current.cause;
      } else {
        parts.push(String(current));
        current = undefined;
      }
    }
    return parts.join("\n");
  }

  it("never shows the secret key or a UserSig, even when undici or Tencent echo the request URL", async () => {
    const echoUrl = (r: RecordedRequest) => r.url.toString();
    const scenarios: Array<[Script, Partial<ImClientOptions>]> = [
      // undici-like: the URL in the outer message and in a nested AggregateError cause
      [
        [
          (r) =>
            new TypeError(`Failed to parse URL from ${echoUrl(r)}`, {
              cause: new AggregateError(
                [Object.assign(new Error(`connect to ${echoUrl(r)}`), { code: "ECONNREFUSED" })],
                `at ${echoUrl(r)}`,
              ),
            }),
        ],
        { maxAttempts: 2 },
      ],
      [[(r) => fail(70009, `bad sig ${sigOf(r)} in ${echoUrl(r)}`, { RequestId: sigOf(r) })], {}],
      [[(r) => fail(60007, `slow down usersig=${sigOf(r)}&x=1`)], { maxAttempts: 3 }],
      [[fail(70001, "expired")], {}],
      [[new Response("<html>gateway</html>", { status: 502 })], { maxAttempts: 2 }],
      [["hang"], { timeoutMs: 50, maxAttempts: 2 }],
      [[(r) => new Response(`not json ${echoUrl(r)}`)], { maxAttempts: 2 }],
      [
        [
          (r) =>
            Object.assign(new Error(`odd ${sigOf(r)} ${SECRET}`), { code: "EWHATEVER", hostname: sigOf(r) }),
        ],
        { maxAttempts: 1 },
      ],
    ];

    const sigs = new Set<string>();
    const texts: string[] = [];
    for (const [script, options] of scenarios) {
      const { fetch, call, logger } = setup(script, options);
      const error = await rejection(call());
      expect(error.name).toMatch(/^(ImApiError|ImTransportError|TimeoutError)$/);
      for (const r of fetch.requests) sigs.add(sigOf(r));
      texts.push(everyText(error), JSON.stringify(logger.lines), inspect(logger.lines, { depth: 10 }));
    }

    const all = texts.join("\n");
    expect(sigs.size).toBeGreaterThan(0);
    expect(all).not.toContain(SECRET);
    for (const sig of sigs) {
      expect(all).not.toContain(sig);
      expect(all).not.toContain(encodeURIComponent(sig));
      expect(all).not.toContain(sig.slice(0, 32));
    }
    expect(all).not.toMatch(/usersig=(?!\[redacted\])/i);
    expect(all).toContain("usersig=[redacted]"); // the URLs were there, redacted, not dropped
    expect(all).toContain("ECONNREFUSED"); // and what failed is still said
  });
});
