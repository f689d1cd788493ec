/** Reading an RSMF file back as a reviewer's tool would: MIME-parse it, unzip rsmf.zip, check the schema. */
import { readFile } from "node:fs/promises";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import PostalMime from "postal-mime";
import yauzl from "yauzl";

const SCHEMA = new URL("../fixtures/rsmf/rsmf_schema_2_0_0.json", import.meta.url);

export interface ReadRsmf {
  headers: Map<string, string>;
  text: string;
  /** The files of rsmf.zip by name. */
  files: Map<string, Buffer>;
  manifest: unknown;
}

/** Relativity's RSMF 2.0.0 schema as an ajv validator (draft-07, formats checked). */
export async function rsmfSchemaValidator(): Promise<ValidateFunction> {
  const schema = JSON.parse(await readFile(SCHEMA, "utf8")) as Record<string, unknown>;
  // The published schema uses `$id`s on sub-schemas and one `maximum` on a string: not strict JSON Schema.
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;
  addFormats(ajv);
  ajv.addFormat("idn-email", /^[^\s@]+@[^\s@]+$/u);
  return ajv.compile(schema);
}

export async function readRsmf(path: string): Promise<ReadRsmf> {
  const email = await PostalMime.parse(await readFile(path));
  const headers = new Map(email.headers.map((h) => [h.key.toLowerCase(), h.value]));
  const zips = email.attachments.filter((a) => a.filename === "rsmf.zip");
  if (zips.length !== 1 || email.attachments.length !== 1) {
    throw new Error(
      `${path}: expected exactly one attachment rsmf.zip, got ${email.attachments.map((a) => a.filename)}`,
    );
  }
  const content = zips[0]!.content;
  const zip =
    typeof content === "string" ? Buffer.from(content, "base64") : Buffer.from(content as ArrayBuffer);
  const files = await unzip(zip);
  const manifestBytes = files.get("rsmf_manifest.json");
  if (manifestBytes === undefined) throw new Error(`${path}: rsmf.zip holds no rsmf_manifest.json`);
  return { headers, text: email.text ?? "", files, manifest: JSON.parse(manifestBytes.toString("utf8")) };
}

function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zipfile) => {
      if (err || zipfile === undefined) return reject(err);
      const files = new Map<string, Buffer>();
      zipfile.on("entry", (entry: yauzl.Entry) => {
        zipfile.openReadStream(entry, (e, stream) => {
          if (e || stream === undefined) return reject(e);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("error", reject);
          stream.on("end", () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zipfile.readEntry();
          });
        });
      });
      zipfile.on("end", () => resolve(files));
      zipfile.on("error", reject);
      zipfile.readEntry();
    });
  });
}
