/**
 * The error codes the simulator answers, with ErrorInfo texts in Tencent's style. Public codes come
 * from Tencent's REST API error table; 1001 – 1005 are get_history's private codes.
 */
export const CODES = {
  ok: 0,
  badUrl: 1001,
  badParam: 1002,
  systemError: 1003,
  notGenerated: 1004,
  fileExpired: 1005,
  httpParse: 60002,
  jsonParse: 60003,
  sdkAppIdInvalid: 60006,
  rateLimited: 60007,
  needAdmin: 60010,
  sigExpired: 70001,
  sigMalformed: 70003,
  sigVerifyFailed: 70009,
  identifierMismatch: 70013,
  sdkAppIdMismatch: 70014,
  keyNotFound: 70016,
} as const;

export const INFO: Record<number, string> = {
  1001: "request url invalid",
  1002: "invalid parameter",
  1003: "system error",
  1004: "file not generated yet or no message in the period",
  1005: "file expired",
  60002: "HTTP parse error, please check the request url",
  60003: "json parse error, please check the request body",
  60006: "SDKAppID invalid",
  60007: "REST API rate over limit",
  60010: "request requires app admin privilege",
  70001: "UserSig expired, please regenerate it",
  70003: "UserSig invalid, parse failed",
  70009: "UserSig verification failed, please check the secret key",
  70013: "identifier in the request does not match the one in the UserSig",
  70014: "SDKAppID in the request does not match the one in the UserSig",
  70016: "key of the SDKAppID not found, please check the SDKAppID and region",
};

export interface Envelope {
  ActionStatus: "OK" | "FAIL";
  ErrorCode: number;
  ErrorInfo: string;
  RequestId: string;
}

export function fail(code: number, requestId: string, detail?: string): Envelope {
  const info = INFO[code] ?? "error";
  return {
    ActionStatus: "FAIL",
    ErrorCode: code,
    ErrorInfo: detail === undefined ? info : `${info}: ${detail}`,
    RequestId: requestId,
  };
}
