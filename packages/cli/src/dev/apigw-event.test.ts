import { describe, expect, it } from "vitest";
import { fromApiGatewayResult, type HttpRequestInfo, toApiGatewayEvent } from "./apigw-event.ts";

const base: HttpRequestInfo = {
  method: "get",
  url: "/v1/status?hours=3&x=1&x=2",
  headers: { host: "127.0.0.1:3000", Authorization: "Bearer t", "user-agent": "curl/8", cookie: "a=1; b=2" },
  sourceIp: "127.0.0.1",
  body: Buffer.alloc(0),
  receivedAt: Date.UTC(2024, 4, 1, 12, 3, 4),
};

describe("toApiGatewayEvent", () => {
  it("builds a payload 2.0 event: raw path and query, lower-cased headers, cookies apart, request context", () => {
    const event = toApiGatewayEvent(base);

    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/v1/status",
      rawQueryString: "hours=3&x=1&x=2",
      cookies: ["a=1", "b=2"],
      headers: { host: "127.0.0.1:3000", authorization: "Bearer t", "user-agent": "curl/8" },
      queryStringParameters: { hours: "3", x: "1,2" },
      isBase64Encoded: false,
      requestContext: {
        http: {
          method: "GET",
          path: "/v1/status",
          protocol: "HTTP/1.1",
          sourceIp: "127.0.0.1",
          userAgent: "curl/8",
        },
        domainName: "127.0.0.1",
        stage: "$default",
        time: "01/May/2024:12:03:04 +0000",
        timeEpoch: base.receivedAt,
      },
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("passes a JSON body as text and any other body base64-encoded", () => {
    const json = toApiGatewayEvent({
      ...base,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from('{"RawURLs":[]}'),
    });
    const binary = toApiGatewayEvent({
      ...base,
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from([0xff, 0x00]),
    });

    expect(json).toMatchObject({ body: '{"RawURLs":[]}', isBase64Encoded: false });
    expect(binary).toMatchObject({ body: "/wA=", isBase64Encoded: true });
  });

  it("omits queryStringParameters when there is no query", () => {
    expect(toApiGatewayEvent({ ...base, url: "/v1/health" }).queryStringParameters).toBeUndefined();
  });
});

describe("fromApiGatewayResult", () => {
  it("reads a structured result: status, headers as strings, cookies, base64 body", () => {
    const out = fromApiGatewayResult({
      statusCode: 429,
      headers: { "Retry-After": 10, "content-type": "application/json" },
      cookies: ["s=1"],
      body: Buffer.from('{"error":{}}').toString("base64"),
      isBase64Encoded: true,
    });

    expect(out.statusCode).toBe(429);
    expect(out.headers).toEqual({
      "retry-after": "10",
      "content-type": "application/json",
      "set-cookie": ["s=1"],
    });
    expect(out.body.toString()).toBe('{"error":{}}');
  });

  it("takes a result without statusCode as a 200 JSON body, as API Gateway does", () => {
    const out = fromApiGatewayResult({ status: "ok" } as never);

    expect(out.statusCode).toBe(200);
    expect(JSON.parse(out.body.toString())).toEqual({ status: "ok" });
  });
});
