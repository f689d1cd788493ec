import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { jobId, parseJob, queueJob } from "./job.ts";

describe("parseJob", () => {
  it("accepts both kinds of the queue's job shape", () => {
    expect(parseJob('{"v":1,"kind":"media","chatType":"Group","msgTime":"2024022923"}')).toEqual({
      v: 1,
      kind: "media",
      chatType: "Group",
      msgTime: "2024022923",
    });
    expect(parseJob('{"v":1,"kind":"history","chatType":"C2C","msgTime":"2024022923"}').kind).toBe("history");
  });

  it("reads a message written before jobs had kinds as a history job", () => {
    expect(parseJob('{"v":1,"chatType":"Group","msgTime":"2024022923"}')).toEqual({
      v: 1,
      kind: "history",
      chatType: "Group",
      msgTime: "2024022923",
    });
  });

  it("parses what queueJob builds back to the same job", () => {
    const job = queueJob("media", { chatType: "C2C", msgTime: "2024030118" });

    expect(parseJob(JSON.stringify(job))).toEqual(job);
  });

  it("accepts an export job: its id and the export's request", () => {
    const job = {
      v: 1,
      kind: "export",
      id: "0f0e0d0c-0b0a-4909-8807-060504030201",
      request: { user: "u1", from: "2024030100", to: "2024030123", format: "rsmf" },
    };

    expect(parseJob(JSON.stringify(job))).toEqual(job);
  });

  it.each([
    [
      "an export job whose id is no export id",
      '{"v":1,"kind":"export","id":"../x","request":{"user":"u","format":"html"}}',
    ],
    [
      "an export job with two subjects",
      '{"v":1,"kind":"export","id":"0f0e0d0c-0b0a-4909-8807-060504030201","request":{"user":"u","group":"g","format":"html"}}',
    ],
    [
      "an export job with an hour's fields",
      '{"v":1,"kind":"export","id":"0f0e0d0c-0b0a-4909-8807-060504030201","chatType":"C2C","request":{"user":"u","format":"html"}}',
    ],
    ["not JSON", "{"],
    ["wrong version", '{"v":2,"chatType":"C2C","msgTime":"2024022923"}'],
    ["unknown kind", '{"v":1,"kind":"thumbnails","chatType":"C2C","msgTime":"2024022923"}'],
    ["a null kind", '{"v":1,"kind":null,"chatType":"C2C","msgTime":"2024022923"}'],
    ["unknown chat type", '{"v":1,"chatType":"Room","msgTime":"2024022923"}'],
    ["impossible hour", '{"v":1,"chatType":"C2C","msgTime":"2023022923"}'],
    ["extra field", '{"v":1,"chatType":"C2C","msgTime":"2024022923","x":1}'],
    ["an array", "[]"],
  ])("rejects %s as a ValidationError", (_what, body) => {
    expect(() => parseJob(body)).toThrow(ValidationError);
  });
});

describe("jobId", () => {
  it("names a history and a media job of the same hour apart, and a history job as before kinds", () => {
    const hour = { chatType: "C2C", msgTime: "2024030118" } as const;

    expect(jobId(queueJob("history", hour))).toBe("C2C-2024030118");
    expect(jobId(hour)).toBe("C2C-2024030118");
    expect(jobId(queueJob("media", hour))).toBe("media-C2C-2024030118");
  });
});
