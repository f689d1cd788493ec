import { describe, expect, it } from "vitest";
import { printJsonTexts, printRows, type RowFormat } from "./rows-output.ts";

async function* batches() {
  yield [{ id: 1, text: 'a,"b"\nc', list: ["x", "y"], none: null }];
  yield [{ id: 9007199254740993n.toString(), text: "天气", list: [], none: null }];
}

const print = async (format: RowFormat) => {
  const out: string[] = [];
  const count = await printRows(["id", "text", "list", "none"], batches(), format, (t) => out.push(t));
  return { text: out.join("\n"), count };
};

describe("printRows", () => {
  it("json: one array of row objects keyed by column", async () => {
    const { text, count } = await print("json");
    expect(count).toBe(2);
    expect(JSON.parse(text)).toEqual([
      { id: 1, text: 'a,"b"\nc', list: ["x", "y"], none: null },
      { id: "9007199254740993", text: "天气", list: [], none: null },
    ]);
  });

  it("ndjson: one object a line", async () => {
    const { text } = await print("ndjson");
    expect(text.split("\n").map((l) => JSON.parse(l).text)).toEqual(['a,"b"\nc', "天气"]);
  });

  it("csv: a header, then RFC 4180 fields (quotes doubled, lists as JSON, null empty)", async () => {
    const { text } = await print("csv");
    expect(text).toBe('id,text,list,none\n1,"a,""b""\nc","[""x"",""y""]",\n9007199254740993,天气,[],');
  });

  it("table: aligned columns, one line a row", async () => {
    const { text } = await print("table");
    const lines = text.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('a,"b"\\nc');
    expect(lines[0]!.indexOf("text")).toBe(lines[2]!.indexOf("天气"));
  });

  it("json of no rows is an empty array", async () => {
    const out: string[] = [];
    await printRows(["a"], (async function* () {})(), "json", (t) => out.push(t));
    expect(JSON.parse(out.join(""))).toEqual([]);
  });

  it("prints a batch in one write, the same text as a row a batch", async () => {
    const rows = [
      { id: 1, text: "x" },
      { id: 2, text: 'a,"b"' },
      { id: 3, text: null },
    ];
    const run = async (format: RowFormat, split: number[][]) => {
      const out: string[] = [];
      const from = (async function* () {
        for (const part of split) yield part.map((i) => rows[i]!);
      })();
      await printRows(["id", "text"], from, format, (t) => out.push(t));
      return out;
    };
    for (const format of ["json", "ndjson", "csv"] as const) {
      const batched = await run(format, [[0, 1], [], [2]]);
      const single = await run(format, [[0], [1], [2]]);
      expect(batched.join("\n")).toBe(single.join("\n"));
      expect(batched.length).toBe(single.length - 1);
    }
  });

  it("prints JSON texts' bytes as they are, a batch in one write, as printRows prints the rows", async () => {
    const rows = [
      { a: 1, t: "天气" },
      { a: 2, t: 'x"\ny' },
      { a: 3, t: null },
    ];
    const bytes = (i: number) => Buffer.from(JSON.stringify(rows[i]));
    const run = async (format: "json" | "ndjson", split: number[][]) => {
      const writes: string[] = [];
      const from = (async function* () {
        for (const part of split) yield part.map(bytes);
      })();
      const count = await printJsonTexts(from, format, (b) => writes.push(Buffer.from(b).toString("utf8")));
      return { writes, count };
    };
    const asRows = async (format: "json" | "ndjson", split: number[][]) => {
      const out: string[] = [];
      const from = (async function* () {
        for (const part of split) yield part.map((i) => rows[i]!);
      })();
      await printRows(["a", "t"], from, format, (t) => out.push(`${t}\n`));
      return out.join("");
    };

    for (const format of ["json", "ndjson"] as const) {
      const { writes, count } = await run(format, [[0, 1], [], [2]]);

      expect(count).toBe(3);
      expect(writes).toHaveLength(format === "json" ? 3 : 2);
      expect(writes.join("")).toBe(await asRows(format, [[0, 1], [], [2]]));
    }
    expect((await run("json", [])).writes.join("")).toBe("[]\n");
    expect((await run("ndjson", [])).writes).toEqual([]);
  });
});
