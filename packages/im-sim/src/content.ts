import { Rng } from "./prng.ts";

/**
 * Fixed pools the message generator draws from. Texts are stored JSON-escaped (without quotes) so
 * that lines can be built by concatenation, the fast path, and still be valid JSON.
 */

const esc = (s: string): string => JSON.stringify(s).slice(1, -1);

const PHRASES = [
  "你好",
  "在吗？",
  "今天天气真好☀️",
  "晚上一起吃饭吧🍜",
  "收到，马上处理",
  "哈哈哈哈😂😂",
  "这个方案我觉得可以👍",
  "明天上午十点开会，别忘了",
  "图片已经发给你了",
  "好的，谢谢！🙏",
  "周末去爬山吗⛰️",
  "我在路上了🚗，大概二十分钟到",
  "ok",
  "see you tomorrow",
  "生日快乐🎂🎉",
  "这个价格有点贵，能便宜点吗？",
  "已转账💰",
  "稍等一下",
  "👨‍👩‍👧‍👦家庭聚会",
  "「引用」这个问题我们下周再讨论。",
  '他说："没问题"',
  "路径是 C:\\Users\\test\\文档",
  "第一行\n第二行",
  "tab\there",
  "😀😃😄😁😆😅🤣",
  "🇨🇳🇸🇬🇯🇵",
  "四等分",
  "hi, beauty",
  "Private activate",
  "麻烦把发票抬头再确认一下，谢谢",
  "快递到了吗📦",
  "我先下线了，明天聊👋",
  "这周的周报记得交",
  "¿Qué tal? Ça va très bien",
  "<b>not html</b> & more",
  "数字 1234567890 和符号 ~!@#$%^&*()",
];
export const TEXTS: readonly string[] = PHRASES.map(esc);

export const FILE_NAMES: readonly [string, "pdf" | "docx" | "zip" | "xlsx" | "txt"][] = [
  ["报告", "pdf"],
  ["合同-最终版", "docx"],
  ["照片", "zip"],
  ["季度数据", "xlsx"],
  ["notes", "txt"],
  ["会议纪要 2024", "docx"],
  ["invoice_0042", "pdf"],
].map(([n, e]) => [esc(`${n}.${e}`), e] as [string, "pdf" | "docx" | "zip" | "xlsx" | "txt"]);

export const PLACES: readonly [string, number, number][] = [
  ["上海市浦东新区陆家嘴环路1000号", 31.2397, 121.4998],
  ["北京市海淀区中关村大街27号", 39.9837, 116.3164],
  ["深圳市南山区科技园腾讯滨海大厦", 22.5226, 113.9355],
  ["广州塔", 23.1064, 113.3245],
  ["杭州西湖🌊", 30.2431, 120.1508],
  ["Marina Bay Sands, Singapore", 1.2834, 103.8607],
].map(([d, lat, lng]) => [esc(d as string), lat as number, lng as number] as [string, number, number]);

export const FACES: readonly string[] = [
  "[微笑]",
  "[撇嘴]",
  "[色]",
  "[发呆]",
  "[得意]",
  "[流泪]",
  "[害羞]",
  "[OK]",
].map(esc);

/** Custom element payloads: JSON carried as a string, as apps do (escaped twice on the line). */
export const CUSTOM_DATA: readonly [string, string][] = [
  [{ businessID: "order", orderId: "A2024-0001", amount: 99.5 }, "订单消息"],
  [{ businessID: "red_packet", note: "恭喜发财🧧" }, "红包"],
  [{ businessID: "typing", status: 1 }, ""],
  [{ businessID: "link", text: "点击查看", link: "https://example.com/a?b=1&c=2" }, "链接"],
].map(([d, desc]) => [esc(JSON.stringify(d)), esc(desc as string)] as [string, string]);

export const CLOUD_CUSTOM_DATA: readonly string[] = [
  { reply: { id: "msg-1", text: "引用的消息" } },
  { source: "ios", ver: "7.2" },
  { tags: ["重要", "⭐"] },
].map((d) => esc(JSON.stringify(d)));

const SYLLABLES = [
  "li",
  "wang",
  "zhang",
  "liu",
  "chen",
  "yang",
  "zhao",
  "huang",
  "zhou",
  "wu",
  "xu",
  "sun",
  "ma",
  "zhu",
  "hu",
  "guo",
  "he",
  "lin",
  "luo",
  "gao",
  "mei",
  "xiao",
  "long",
  "hua",
];

function buildAccounts(n: number): string[] {
  const rng = new Rng("imvault-sim accounts");
  const out = new Set<string>();
  while (out.size < n) {
    const style = rng.int(0, 3);
    const name = rng.pick(SYLLABLES) + rng.pick(SYLLABLES);
    if (style === 0) out.add(`${name}${rng.int(1, 9999)}`);
    else if (style === 1) out.add(`user_${rng.int(100000, 999999)}`);
    else if (style === 2) out.add(`${name}_${rng.pick(SYLLABLES)}`);
    else out.add(`u${rng.hex(8)}`);
  }
  return [...out];
}

function buildGroups(n: number): string[] {
  const rng = new Rng("imvault-sim groups");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const out = new Set<string>();
  while (out.size < n) {
    if (rng.float() < 0.8) {
      let id = "@TGS#";
      const len = rng.int(9, 11);
      for (let i = 0; i < len; i++) id += alphabet[rng.int(0, alphabet.length - 1)];
      out.add(id);
    } else {
      out.add(`group_${rng.pick(SYLLABLES)}_${rng.int(1, 999)}`);
    }
  }
  return [...out];
}

export const ACCOUNTS: readonly string[] = buildAccounts(4096);
export const GROUPS: readonly string[] = buildGroups(512);
