import { METRIC } from "@imvault/im-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeMetrics, metricsPort, publishMetrics } from "./lambda.ts";

describe("publishMetrics (the end of every Lambda invocation)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("publishes what the invocation counted, and nothing (no warning) when it counted nothing", () => {
    const quiet = makeMetrics("test");
    const counted = makeMetrics("test");
    metricsPort(counted).count(METRIC.hoursArchived);
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const errors = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});

    publishMetrics(quiet);
    const afterQuiet = write.mock.calls.length + errors.mock.calls.length + warn.mock.calls.length;
    publishMetrics(counted);

    expect(afterQuiet).toBe(0);
    expect(write.mock.calls.map((c) => String(c[0])).join("")).toContain(`"${METRIC.hoursArchived}"`);
  });
});
