/**
 * Rich-media URLs of a history message: the RawURLs that get_cos_sig accepts. Tencent's message
 * format puts them in TIMImageElem.ImageInfoArray[].URL (original, large, thumbnail),
 * TIMSoundElem.Url, TIMFileElem.Url and TIMVideoFileElem.VideoUrl / .ThumbUrl.
 */
import type { HistoryMessage } from "./types.ts";

export type MediaType = "image" | "sound" | "file" | "video" | "thumb";

export interface MediaUrl {
  type: MediaType;
  url: string;
  /** Index of the element in the message's MsgBody. */
  elemIndex: number;
}

/**
 * Every rich-media URL of `message`, in MsgBody order (within a video: video, then thumbnail; within
 * an image: ImageInfoArray order). Missing, empty (or blank) or non-string fields and malformed elements are
 * skipped, never thrown on: history files are data, not contracts. Duplicates are kept.
 */
export function mediaUrls(message: HistoryMessage): MediaUrl[] {
  const body: unknown = message.MsgBody;
  const out: MediaUrl[] = [];
  if (!Array.isArray(body)) return out;
  for (let elemIndex = 0; elemIndex < body.length; elemIndex++) {
    const elem: unknown = body[elemIndex];
    if (!isRecord(elem) || !isRecord(elem.MsgContent)) continue;
    const content = elem.MsgContent;
    switch (elem.MsgType) {
      case "TIMImageElem": {
        const images = content.ImageInfoArray;
        if (!Array.isArray(images)) break;
        for (const info of images) {
          if (isRecord(info)) add(out, "image", info.URL, elemIndex);
        }
        break;
      }
      case "TIMSoundElem":
        add(out, "sound", content.Url, elemIndex);
        break;
      case "TIMFileElem":
        add(out, "file", content.Url, elemIndex);
        break;
      case "TIMVideoFileElem":
        add(out, "video", content.VideoUrl, elemIndex);
        add(out, "thumb", content.ThumbUrl, elemIndex);
        break;
    }
  }
  return out;
}

function add(out: MediaUrl[], type: MediaType, url: unknown, elemIndex: number): void {
  if (typeof url === "string" && url.trim() !== "") out.push({ type, url, elemIndex });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
