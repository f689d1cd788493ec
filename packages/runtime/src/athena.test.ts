import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { makeAthenaSearches } from "./athena.ts";

/**
 * The real AthenaClient (made lazily at the first search) against a local endpoint speaking Athena's
 * JSON protocol: what goes over the wire is what the adapter meant, and Athena's answers come back
 * as the API's pages.
 */
describe("Athena searches through the AWS SDK", () => {
  let server: Server;
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  const ID = "0f0e0d0c-0b0a-4909-8807-060504030201";
  const answers: Record<string, unknown> = {
    "AmazonAthena.StartQueryExecution": { QueryExecutionId: ID },
    "AmazonAthena.GetQueryExecution": {
      QueryExecution: { QueryExecutionId: ID, WorkGroup: "imvault-test", Status: { State: "SUCCEEDED" } },
    },
    "AmazonAthena.GetQueryResults": {
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: [
            { Name: "line", Type: "bigint" },
            { Name: "msg_types", Type: "varchar" },
            { Name: "text", Type: "varchar" },
          ],
        },
        Rows: [
          { Data: [{ VarCharValue: "line" }, { VarCharValue: "msg_types" }, { VarCharValue: "text" }] },
          { Data: [{ VarCharValue: "7" }, { VarCharValue: '["TIMTextElem"]' }, {}] },
        ],
      },
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"]);
        requests.push({ target, body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(answers[target] ?? {}));
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  });
  afterAll(() => {
    server?.close();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("starts the query with its parameters in the workgroup and database, then reads its rows", async () => {
    const { port } = server.address() as AddressInfo;
    vi.stubEnv("AWS_ENDPOINT_URL_ATHENA", `http://127.0.0.1:${port}`);
    vi.stubEnv("AWS_REGION", "eu-west-1");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret-example");
    const searches = makeAthenaSearches({ workgroup: "imvault-test", database: "imvault_test" });

    const { id } = await searches.start(
      { group: "@TGS#1", text: "it's", from: "2024050100", to: "2024050123" },
      { keyName: "ops" },
    );
    const page = await searches.page(id, undefined);

    expect(id).toBe(ID);
    expect(requests.map((r) => r.target)).toEqual([
      "AmazonAthena.StartQueryExecution",
      "AmazonAthena.GetQueryExecution",
      "AmazonAthena.GetQueryResults",
    ]);
    expect(requests[0]!.body).toMatchObject({
      WorkGroup: "imvault-test",
      QueryExecutionContext: { Database: "imvault_test" },
      ExecutionParameters: [
        "'@TGS#1'",
        "'it''s'",
        "'2024-05-01'",
        "'2024050100'",
        "'2024-05-01'",
        "'2024050123'",
      ],
    });
    expect(requests[0]!.body.QueryString).toMatch(
      /FROM messages WHERE group_id = \? AND strpos\(text, \?\) > 0/,
    );
    expect(requests[2]!.body).toEqual({ QueryExecutionId: ID, MaxResults: 501 });
    expect(page).toEqual({
      state: "succeeded",
      rows: [{ line: 7, msg_types: ["TIMTextElem"], text: null }],
      nextCursor: null,
    });
  });
});
