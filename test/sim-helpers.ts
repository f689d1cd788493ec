/** Shared by the simulator's system tests: a steerable clock and raw REST calls (no im-core client). */
import { genUserSig } from "@imvault/im-core";
import { TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";

/** 2024-03-01 20:00:00 Beijing: hour 2024030118 ended an hour ago, so its files have just appeared. */
export const T0 = Date.parse("2024-03-01T12:00:00Z");
export const READY_HOUR = "2024030118";

export class StepClock {
  t: number;
  constructor(t = T0) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  /** For the im-core client: real sleeps (the client only waits on its own rate limit here). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

export const HISTORY = "/v4/open_msg_svc/get_history";
export const COS_SIG = "/v4/im_cos_msg/get_cos_sig";

export interface CallOptions {
  path?: string;
  method?: string;
  sdkappid?: string | null;
  identifier?: string | null;
  usersig?: string | null;
  random?: string | null;
  contenttype?: string | null;
  /** Raw body text instead of JSON of `body`. */
  rawBody?: string;
  /** UserSig issue time (unix s) and lifetime, and the key it is signed with. */
  issuedAt?: number;
  expireSeconds?: number;
  secretKey?: string;
  sigIdentifier?: string;
  sigAppId?: number;
}

export function sigFor(clock: { now(): number }, o: CallOptions = {}): string {
  return genUserSig({
    sdkAppId: o.sigAppId ?? TEST_SDKAPPID,
    identifier: o.sigIdentifier ?? o.identifier ?? TEST_ADMIN,
    secretKey: o.secretKey ?? TEST_SECRET_KEY,
    expireSeconds: o.expireSeconds ?? 86_400,
    issuedAt: o.issuedAt ?? Math.floor(clock.now() / 1000),
  });
}

/** One REST call as Tencent's docs describe it; returns the HTTP status and the parsed body (or text). */
export async function call(
  base: string,
  clock: { now(): number },
  body: unknown,
  o: CallOptions = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const q = new URLSearchParams();
  const put = (k: string, v: string | null | undefined, dflt: string) => {
    if (v !== null) q.set(k, v ?? dflt);
  };
  put("sdkappid", o.sdkappid, String(TEST_SDKAPPID));
  put("identifier", o.identifier, TEST_ADMIN);
  put("usersig", o.usersig, sigFor(clock, o));
  put("random", o.random, String(Math.floor(Math.random() * 0xffffffff)));
  put("contenttype", o.contenttype, "json");
  const res = await fetch(`${base}${o.path ?? HISTORY}?${q}`, {
    method: o.method ?? "POST",
    ...((o.method ?? "POST") === "GET" ? {} : { body: o.rawBody ?? JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

export interface FileEntry {
  URL: string;
  ExpireTime: string;
  FileSize: number;
  FileMD5: string;
  GzipSize: number;
  GzipMD5: string;
}

export async function historyFiles(
  base: string,
  clock: { now(): number },
  chatType: string,
  msgTime: string,
): Promise<FileEntry[]> {
  const r = await call(base, clock, { ChatType: chatType, MsgTime: msgTime });
  if (r.json.ErrorCode !== 0) throw new Error(`get_history answered ${r.json.ErrorCode} ${r.json.ErrorInfo}`);
  return r.json.File as FileEntry[];
}
