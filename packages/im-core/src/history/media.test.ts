import { describe, expect, it } from "vitest";
import { mediaUrls } from "./media.ts";
import type { HistoryMessage, MsgElem } from "./types.ts";

const COS = "https://cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400187352";

function msg(...body: MsgElem[]): HistoryMessage {
  return { From_Account: "a", To_Account: "b", MsgTimestamp: 1, MsgSeq: 1, MsgRandom: 1, MsgBody: body };
}

const image: MsgElem = {
  MsgType: "TIMImageElem",
  MsgContent: {
    UUID: "1400187352_ABC",
    ImageFormat: 1,
    ImageInfoArray: [
      { Type: 1, Size: 1853095, Width: 2448, Height: 3264, URL: `${COS}/orig.jpg` },
      { Type: 2, Size: 8192, Width: 384, Height: 512, URL: `${COS}/large.jpg` },
      { Type: 3, Size: 1219, Width: 144, Height: 192, URL: `${COS}/thumb.jpg` },
    ],
  },
};
const sound: MsgElem = {
  MsgType: "TIMSoundElem",
  MsgContent: { Url: `${COS}/voice.m4a`, UUID: "5_2_x", Size: 8000, Second: 3, Download_Flag: 2 },
};
const fileElem: MsgElem = {
  MsgType: "TIMFileElem",
  MsgContent: {
    Url: `${COS}/report.pdf`,
    UUID: "6_2_x",
    FileSize: 1773,
    FileName: "报告.pdf",
    Download_Flag: 2,
  },
};
const video: MsgElem = {
  MsgType: "TIMVideoFileElem",
  MsgContent: {
    VideoUrl: `${COS}/clip.mp4`,
    VideoUUID: "7_2_x",
    VideoSize: 1000,
    VideoSecond: 5,
    VideoFormat: "mp4",
    VideoDownloadFlag: 2,
    ThumbUrl: `${COS}/clip.jpg`,
    ThumbUUID: "8_2_x",
    ThumbSize: 100,
    ThumbWidth: 720,
    ThumbHeight: 1280,
    ThumbFormat: "JPG",
    ThumbDownloadFlag: 2,
  },
};
const textElem: MsgElem = { MsgType: "TIMTextElem", MsgContent: { Text: `看这个 ${COS}/not-media.jpg` } };
const custom: MsgElem = {
  MsgType: "TIMCustomElem",
  MsgContent: { Data: `{"url":"${COS}/x"}`, Desc: "", Ext: "" },
};

describe("mediaUrls", () => {
  it("returns all three sizes of an image, in ImageInfoArray order", () => {
    expect(mediaUrls(msg(image))).toEqual([
      { type: "image", url: `${COS}/orig.jpg`, elemIndex: 0 },
      { type: "image", url: `${COS}/large.jpg`, elemIndex: 0 },
      { type: "image", url: `${COS}/thumb.jpg`, elemIndex: 0 },
    ]);
  });

  it("returns a sound's Url", () => {
    expect(mediaUrls(msg(sound))).toEqual([{ type: "sound", url: `${COS}/voice.m4a`, elemIndex: 0 }]);
  });

  it("returns a file's Url", () => {
    expect(mediaUrls(msg(fileElem))).toEqual([{ type: "file", url: `${COS}/report.pdf`, elemIndex: 0 }]);
  });

  it("returns a video's VideoUrl then its ThumbUrl", () => {
    expect(mediaUrls(msg(video))).toEqual([
      { type: "video", url: `${COS}/clip.mp4`, elemIndex: 0 },
      { type: "thumb", url: `${COS}/clip.jpg`, elemIndex: 0 },
    ]);
  });

  it("returns nothing for text, custom and unknown elements even when they mention URLs", () => {
    const unknown: MsgElem = { MsgType: "TIMNewElem", MsgContent: { Url: `${COS}/new` } };
    expect(mediaUrls(msg(textElem, custom, unknown))).toEqual([]);
  });

  it("walks a mixed body in order and tags each URL with its element's index", () => {
    const got = mediaUrls(msg(textElem, video, image, sound, custom, fileElem));

    expect(got.map((m) => [m.type, m.elemIndex])).toEqual([
      ["video", 1],
      ["thumb", 1],
      ["image", 2],
      ["image", 2],
      ["image", 2],
      ["sound", 3],
      ["file", 5],
    ]);
  });

  it("keeps duplicate URLs (each occurrence is its own media reference)", () => {
    expect(mediaUrls(msg(sound, sound)).map((m) => m.elemIndex)).toEqual([0, 1]);
  });

  it("skips missing, empty, blank and non-string URL fields but keeps the element's other URLs", () => {
    const partialImage: MsgElem = {
      MsgType: "TIMImageElem",
      MsgContent: {
        ImageInfoArray: [
          { Type: 1 },
          { Type: 2, URL: "" },
          { Type: 3, URL: 42 },
          null,
          "x",
          { URL: `${COS}/ok.jpg` },
        ],
      },
    };
    const videoNoThumb: MsgElem = {
      MsgType: "TIMVideoFileElem",
      MsgContent: { VideoUrl: `${COS}/v.mp4`, ThumbUrl: " " },
    };
    const soundNoUrl: MsgElem = { MsgType: "TIMSoundElem", MsgContent: { UUID: "x" } };
    const fileNullUrl: MsgElem = { MsgType: "TIMFileElem", MsgContent: { Url: null } };

    const got = mediaUrls(msg(partialImage, videoNoThumb, soundNoUrl, fileNullUrl));

    expect(got).toEqual([
      { type: "image", url: `${COS}/ok.jpg`, elemIndex: 0 },
      { type: "video", url: `${COS}/v.mp4`, elemIndex: 1 },
    ]);
  });

  it("tolerates malformed elements and bodies without throwing", () => {
    const weird = [
      { MsgType: "TIMImageElem" },
      { MsgType: "TIMImageElem", MsgContent: { ImageInfoArray: "nope" } },
      { MsgType: "TIMSoundElem", MsgContent: "string" },
      { MsgContent: { Url: `${COS}/no-type` } },
      null,
      7,
    ] as unknown as MsgElem[];

    expect(mediaUrls(msg(...weird, sound))).toEqual([
      { type: "sound", url: `${COS}/voice.m4a`, elemIndex: 6 },
    ]);
    expect(mediaUrls({ From_Account: "a" })).toEqual([]);
    expect(mediaUrls({ MsgBody: "nope" } as unknown as HistoryMessage)).toEqual([]);
  });
});
