/** Shapes of the two Tencent IM calls imvault uses, as im-core exposes them. */

export const CHAT_TYPES = ["C2C", "Group"] as const;
export type ChatType = (typeof CHAT_TYPES)[number];

/** One file of an hour, as get_history advertises it. */
export interface HistoryFile {
  /** Download URL, with its query string (it may carry a signature: do not log it whole). */
  url: string;
  /** When the download URL stops working (Tencent gives Beijing time; this is the instant). */
  expiresAt: Date;
  /** The ExpireTime text exactly as Tencent sent it. */
  expireTimeText: string;
  /** Size and MD5 of the plain (decompressed) bytes. */
  fileSize: number;
  fileMd5: string;
  /** Size and MD5 of the GZip bytes as served. */
  gzipSize: number;
  gzipMd5: string;
}

/** One item of a get_cos_sig request. */
export interface CosSigRequestItem {
  ResourceID: number;
  RawURL: string;
}

export type CosStatusText = "normal" | "banned" | "missing";

/** One item of a get_cos_sig answer, plus what imvault adds. */
export interface CosSigResult {
  ResourceID: number;
  Code: number;
  Desc: string;
  PreSigURL: string;
  Status: number;
  StatusText: CosStatusText | "unknown";
  /** When the PreSigURL stops working (15 minutes after the answer, or Tencent's im-time-expired). */
  ExpiresAt: string;
}

/** Regions and their REST API domains (primary, then the backup used when the primary cannot be reached). */
export const REGIONS = {
  cn: ["console.tim.qq.com", "adminapi.my-imcloud.com"],
  sgp: ["adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"],
  kr: ["adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"],
  jpn: ["adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com"],
  ger: ["adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"],
  usa: ["adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"],
  idn: ["adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"],
  ind: ["adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"],
} as const satisfies Record<string, readonly [string, string]>;
export type Region = keyof typeof REGIONS;
