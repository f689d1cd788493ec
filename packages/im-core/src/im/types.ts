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

// get_cos_sig's items (request and answer) are data shapes of the API too: schemas/cos-sig.ts.
export type { CosSigRequestItem, CosSigResult, CosStatusText } from "../schemas/cos-sig.ts";

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
