import { describe, expect, it } from "vitest";
import type { CosSigRequestItem, CosSigResult } from "../im/types.ts";
import { PreSigner } from "./signer.ts";

/** A get_cos_sig that records each call's ResourceIDs and answers every item at once. */
function recordingLookup() {
  const calls: number[][] = [];
  const lookup = async (items: CosSigRequestItem[]): Promise<CosSigResult[]> => {
    calls.push(items.map((i) => i.ResourceID));
    return items.map((i) => ({
      ResourceID: i.ResourceID,
      Code: 0,
      Desc: "",
      Status: 0,
      StatusText: "normal" as const,
      PreSigURL: `https://sim.test/${i.ResourceID}`,
      ExpiresAt: "2030-01-01T00:00:00Z",
    }));
  };
  return { calls, lookup };
}

const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://cos.test/b/d/e/${i}.png`);

describe("PreSigner", () => {
  it("asks a batch when its first URL is needed, and the next one once half of it is used", async () => {
    const { calls, lookup } = recordingLookup();
    const signer = new PreSigner(urls(10), 4, lookup);

    await signer.get(0);
    await signer.get(1);
    expect(calls).toEqual([[0, 1, 2, 3]]);

    await signer.get(2);
    expect(calls).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);

    for (let i = 3; i < 10; i++) expect((await signer.get(i)).PreSigURL).toBe(`https://sim.test/${i}`);
    expect(calls).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(signer.calls).toBe(3);
  });

  it("asks a batch whose background request failed again for the URL that needs it", async () => {
    const { calls, lookup } = recordingLookup();
    let failNext = false;
    const signer = new PreSigner(urls(4), 2, async (items) => {
      if (failNext) {
        failNext = false;
        calls.push([-1]);
        throw new Error("Tencent IM answered HTTP 502");
      }
      return lookup(items);
    });

    await signer.get(0);
    failNext = true;
    await signer.get(1);

    expect((await signer.get(2)).PreSigURL).toBe("https://sim.test/2");
    expect(calls).toEqual([[0, 1], [-1], [2, 3]]);
  });
});
