import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { parseJob } from "./job.ts";

describe("parseJob", () => {
  it("accepts the queue's job shape", () => {
    expect(parseJob('{"v":1,"chatType":"Group","msgTime":"2024022923"}')).toEqual({
      v: 1,
      chatType: "Group",
      msgTime: "2024022923",
    });
  });
  it.each([
    ["not JSON", "{"],
    ["wrong version", '{"v":2,"chatType":"C2C","msgTime":"2024022923"}'],
    ["unknown chat type", '{"v":1,"chatType":"Room","msgTime":"2024022923"}'],
    ["impossible hour", '{"v":1,"chatType":"C2C","msgTime":"2023022923"}'],
    ["extra field", '{"v":1,"chatType":"C2C","msgTime":"2024022923","x":1}'],
    ["an array", "[]"],
  ])("rejects %s as a ValidationError", (_what, body) => {
    expect(() => parseJob(body)).toThrow(ValidationError);
  });
});
