import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../archive/manifest.ts";
import { CorruptManifestError, ValidationError } from "../errors.ts";
import { parseChatType } from "./common.ts";
import { CosSigResultSchema } from "./cos-sig.ts";
import { CoverageRowSchema } from "./coverage.ts";
import type { Manifest } from "./manifest.ts";

const MD5 = "0123456789abcdef0123456789abcdef";
const manifest: Manifest = {
  version: 1,
  chatType: "Group",
  msgTime: "2024030116",
  status: "archived",
  files: [
    {
      key: "raw/chat_type=Group/dt=2024-03-01/hour=16/a.gz",
      sourceUrl: "https://download.tim.qq.com/a.gz",
      gzipSize: 10,
      gzipMd5: MD5,
      fileSize: 30,
      fileMd5: MD5,
      messageCount: 2,
      framingProblem: "line 1: not a message object",
    },
  ],
  archivedAt: "2024-03-01T09:10:00.000Z",
};

describe("the manifest schema", () => {
  it("reads back what imvault writes, framing note included", () => {
    expect(parseManifest(`${JSON.stringify(manifest, null, 2)}\n`, "k")).toEqual(manifest);
  });

  it("names every problem of a malformed manifest at once, by field path", () => {
    const broken = {
      ...manifest,
      version: 2,
      msgTime: "2024-03-01",
      files: [{ ...manifest.files[0], gzipMd5: "not-md5", messageCount: -1 }],
    };
    let error: unknown;
    try {
      parseManifest(JSON.stringify(broken), "manifests/x.json");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorruptManifestError);
    const issues = (error as CorruptManifestError).details?.issues as string[];
    expect(issues.map((i) => i.split(":")[0])).toEqual([
      "version",
      "msgTime",
      "files.0.gzipMd5",
      "files.0.messageCount",
    ]);
  });
});

describe("the answer shapes", () => {
  it("take a coverage row whose manifest is corrupt", () => {
    const row = {
      msgTime: "2024030116",
      chatType: "C2C",
      status: "corrupt",
      files: 0,
      bytes: 0,
      messages: 0,
    };
    expect(v.is(CoverageRowSchema, row)).toBe(true);
    expect(v.is(CoverageRowSchema, { ...row, status: "pending" })).toBe(false);
  });

  it("hold a cos-sig answer item to Tencent's fields plus StatusText and an ISO ExpiresAt", () => {
    const item = {
      ResourceID: 1,
      Code: 0,
      Desc: "",
      PreSigURL: "https://cos.myqcloud.com/a.png?sign=x",
      Status: 1,
      StatusText: "banned",
      ExpiresAt: "2024-03-01T10:45:00.000Z",
    };
    expect(v.is(CosSigResultSchema, item)).toBe(true);
    expect(v.is(CosSigResultSchema, { ...item, ExpiresAt: "in 15 minutes" })).toBe(false);
    expect(v.is(CosSigResultSchema, { ...item, StatusText: "gone" })).toBe(false);
  });
});

describe("parseChatType", () => {
  it.each([
    ["C2C", "C2C"],
    ["c2c", "C2C"],
    ["Group", "Group"],
    ["GROUP", "Group"],
    ["group", "Group"],
  ])("reads %s as %s", (text, chatType) => {
    expect(parseChatType(text)).toBe(chatType);
  });

  it("refuses anything else, naming the two chat types", () => {
    expect(() => parseChatType("Private")).toThrow(ValidationError);
    expect(() => parseChatType("C2C ")).toThrow(/"C2C " is not one of C2C, Group/);
  });
});
