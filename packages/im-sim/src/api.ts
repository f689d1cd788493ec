import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ChatType } from "@imvault/im-core";
import { formatBeijing, hourEnd, isMsgTime, UserSigError, verifyUserSig } from "@imvault/im-core";
import { CODES, type Envelope, fail } from "./codes.ts";
import type { SimContext } from "./context.ts";
import type { Command } from "./faults.ts";
import { gatewayPage, readBody, sendJson, sendText } from "./http-util.ts";
import { recogniseMediaUrl } from "./media.ts";
import { remember, type SeenRequest } from "./records.ts";
import { mediaSign, sealFileToken } from "./tokens.ts";

/**
 * The REST calls, checked in the order a gateway would: URL, method, common query parameters,
 * app, UserSig, admin, frequency, body. Every answer is HTTP 200 with Tencent's envelope, except
 * the injected gateway faults (502/503).
 */

const COMMANDS: Record<string, Command> = {
  "/v4/open_msg_svc/get_history": "get_history",
  "/v4/im_cos_msg/get_cos_sig": "get_cos_sig",
};

const UINT32_RE = /^\d{1,10}$/;
const SIG_CODES: Record<UserSigError["reason"], number> = {
  malformed: CODES.sigMalformed,
  identifier: CODES.identifierMismatch,
  sdkappid: CODES.sdkAppIdMismatch,
  signature: CODES.sigVerifyFailed,
  expired: CODES.sigExpired,
};

type Answer = { envelope: Envelope; extra?: Record<string, unknown>; reason?: SeenRequest["reason"] };

export async function handleApi(sim: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sim.invalid");
  const command = COMMANDS[url.pathname];
  const q = url.searchParams;
  const text = await readBody(req);
  let body: unknown;
  let bodyOk = false;
  if (text !== undefined) {
    try {
      body = JSON.parse(text);
      bodyOk = true;
    } catch {
      body = text.slice(0, 64 * 1024);
    }
  }
  const seq = sim.nextSeq();
  const requestId = `Id-${randomBytes(8).toString("hex")}-O-Seq-${seq}`;
  const record = remember(
    sim.requests,
    {
      seq,
      at: sim.clock.now(),
      method: req.method ?? "",
      path: url.pathname,
      command,
      sdkappid: q.get("sdkappid"),
      identifier: q.get("identifier"),
      random: q.get("random"),
      contenttype: q.get("contenttype"),
      body,
      httpStatus: 200,
      code: undefined,
      errorInfo: undefined,
      requestId,
      fault: undefined,
    } as SeenRequest,
    sim.maxRecords,
  );

  const b = bodyOk && isRecord(body) ? body : {};
  const fault = sim.faults.forApi({
    command,
    chatType: typeof b.ChatType === "string" ? b.ChatType : undefined,
    msgTime: typeof b.MsgTime === "string" ? b.MsgTime : undefined,
  });
  if (fault !== undefined) record.fault = fault.kind;
  if (fault?.kind === "http502" || fault?.kind === "http503") {
    const status = fault.kind === "http502" ? 502 : 503;
    record.httpStatus = status;
    record.requestId = undefined;
    sendText(res, status, gatewayPage(status), "text/html");
    return;
  }

  let answer: Answer;
  if (fault?.kind === "code1003") answer = { envelope: fail(CODES.systemError, requestId) };
  else if (fault?.kind === "rateLimit") answer = { envelope: fail(CODES.rateLimited, requestId) };
  else if (fault?.kind === "sigExpired") answer = { envelope: fail(CODES.sigExpired, requestId) };
  else
    answer = await answerCall(sim, req.method ?? "", command, q, text, bodyOk ? body : undefined, requestId);

  record.code = answer.envelope.ErrorCode;
  record.errorInfo = answer.envelope.ErrorInfo;
  if (answer.reason !== undefined) record.reason = answer.reason;
  // Tencent's example puts the payload before the envelope fields.
  sendJson(res, 200, { ...answer.extra, ...answer.envelope });
}

async function answerCall(
  sim: SimContext,
  method: string,
  command: Command | undefined,
  q: URLSearchParams,
  text: string | undefined,
  body: unknown,
  requestId: string,
): Promise<Answer> {
  const failWith = (code: number, detail?: string): Answer => ({ envelope: fail(code, requestId, detail) });
  if (command === undefined) return failWith(CODES.badUrl, "unknown service or command");
  if (method !== "POST") return failWith(CODES.httpParse, "method must be POST");

  const appText = q.get("sdkappid");
  if (appText === null || !/^\d{1,20}$/.test(appText)) return failWith(CODES.sdkAppIdInvalid);
  const random = q.get("random");
  if (random === null || !UINT32_RE.test(random) || Number(random) > 0xffffffff) {
    return failWith(CODES.httpParse, "random must be a 32-bit unsigned integer");
  }
  if ((q.get("contenttype") ?? "").toLowerCase() !== "json") {
    return failWith(CODES.httpParse, "contenttype must be json");
  }
  // The only app this simulator hosts; any other is unknown here (as on the wrong region's domain).
  if (Number(appText) !== sim.sdkAppId) return failWith(CODES.keyNotFound);

  const identifier = q.get("identifier") ?? "";
  try {
    verifyUserSig({
      sig: q.get("usersig") ?? "",
      sdkAppId: sim.sdkAppId,
      identifier,
      secretKey: sim.secretKey,
      now: Math.floor(sim.clock.now() / 1000),
    });
  } catch (err) {
    if (err instanceof UserSigError) return failWith(SIG_CODES[err.reason]);
    throw err;
  }
  if (!sim.admins.has(identifier)) {
    // get_history's page lists "not an admin" under its private 1002; other calls use the public 60010.
    return command === "get_history"
      ? failWith(CODES.badParam, "identifier is not an App admin")
      : failWith(CODES.needAdmin);
  }
  if (!sim.rate.take(`${sim.sdkAppId}|${command}`, sim.clock.now())) return failWith(CODES.rateLimited);

  if (text === undefined) return failWith(CODES.httpParse, "request body too large");
  if (body === undefined) return failWith(CODES.jsonParse);
  if (!isRecord(body)) return failWith(CODES.jsonParse, "the body must be a JSON object");

  return command === "get_history" ? getHistory(sim, body, requestId) : getCosSig(sim, body, requestId);
}

async function getHistory(
  sim: SimContext,
  body: Record<string, unknown>,
  requestId: string,
): Promise<Answer> {
  const failWith = (code: number, detail?: string): Answer => ({ envelope: fail(code, requestId, detail) });
  const { ChatType: chatType, MsgTime: msgTime } = body;
  if (chatType !== "C2C" && chatType !== "Group")
    return failWith(CODES.badParam, "ChatType must be C2C or Group");
  if (typeof msgTime !== "string" || !isMsgTime(msgTime)) {
    return failWith(CODES.badParam, "MsgTime must be YYYYMMDDHH");
  }
  const now = sim.clock.now();
  const end = hourEnd(msgTime);
  if (now < end + sim.processingDelayMs) return { ...failWith(CODES.notGenerated), reason: "not-ready" };
  if (sim.isEmptyHour(chatType as ChatType, msgTime))
    return { ...failWith(CODES.notGenerated), reason: "empty" };
  if (now >= end + sim.retentionMs) return failWith(CODES.fileExpired);

  const files = await sim.figures(chatType as ChatType, msgTime);
  if (files.length === 0) return { ...failWith(CODES.notGenerated), reason: "empty" };
  const expires = Math.floor(now / 1000) + sim.urlTtlSeconds;
  const expireTime = formatBeijing(expires * 1000);
  const origin = sim.publicOrigin();
  const File = files.map((f) => {
    const token = sealFileToken(sim.tokenKey, {
      sdkAppId: sim.sdkAppId,
      chatType: chatType as string,
      msgTime,
      fileIndex: f.index,
      firstMessage: f.firstMessage,
      messageCount: f.messageCount,
      gzipSize: f.gzipSize,
      expires,
    });
    return {
      URL: `${origin}/download/${token}/${fileName(sim.sdkAppId, chatType as string, msgTime, f.index, files.length)}`,
      ExpireTime: expireTime,
      FileSize: f.fileSize,
      FileMD5: f.fileMd5,
      GzipSize: f.gzipSize,
      GzipMD5: f.gzipMd5,
    };
  });
  return {
    envelope: { ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", RequestId: requestId },
    extra: { File },
  };
}

/** `1400000000_C2C_2024010203.gz`, or `…_1.gz`, `…_2.gz` when the hour has several files. */
export function fileName(
  sdkAppId: number,
  chatType: string,
  msgTime: string,
  index: number,
  count: number,
): string {
  const base = `${sdkAppId}_${chatType}_${msgTime}`;
  return count === 1 ? `${base}.gz` : `${base}_${index + 1}.gz`;
}

function getCosSig(sim: SimContext, body: Record<string, unknown>, requestId: string): Answer {
  const failWith = (code: number, detail?: string): Answer => ({ envelope: fail(code, requestId, detail) });
  const items = body.RawURLs;
  if (!Array.isArray(items) || items.length === 0) {
    return failWith(CODES.badParam, "RawURLs must be a non-empty array");
  }
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (!isRecord(item)) return failWith(CODES.badParam, `RawURLs[${i}] must be an object`);
    if (typeof item.ResourceID !== "number" || !Number.isInteger(item.ResourceID)) {
      return failWith(CODES.badParam, `RawURLs[${i}].ResourceID must be an integer`);
    }
    if (typeof item.RawURL !== "string" || item.RawURL === "") {
      return failWith(CODES.badParam, `RawURLs[${i}].RawURL must be a non-empty string`);
    }
  }
  const expires = Math.floor(sim.clock.now() / 1000) + sim.presignTtlSeconds;
  const origin = sim.publicOrigin();
  const PreSigURLs = (items as { ResourceID: number; RawURL: string }[]).map((item) => {
    if (!URL.canParse(item.RawURL)) {
      return {
        Code: CODES.badParam,
        Desc: "invalid RawURL",
        ResourceID: item.ResourceID,
        PreSigURL: "",
        Status: 2,
      };
    }
    if (sim.cosRefused(item.RawURL)) {
      return {
        Code: CODES.badParam,
        Desc: "RawURL is not a file uploaded through the IM SDK",
        ResourceID: item.ResourceID,
        PreSigURL: "",
        Status: 2,
      };
    }
    const media = recogniseMediaUrl(sim.mediaKeys, item.RawURL);
    const status = sim.cosStatus(item.RawURL, media);
    // A PreSigURL is signed for whatever object path was asked (COS signs names, not existence).
    const objectPath = media?.objectPath ?? new URL(item.RawURL).pathname.slice(1);
    const sign = mediaSign(sim.tokenKey, objectPath, expires);
    return {
      Code: 0,
      Desc: "",
      ResourceID: item.ResourceID,
      PreSigURL: `${origin}/cos/${objectPath}?sign=${sign}&im-time-expired=${expires}`,
      Status: status,
    };
  });
  return {
    envelope: { ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", RequestId: requestId },
    extra: { PreSigURLs },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
