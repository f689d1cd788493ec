import { ValidationError } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import { describeError, EXIT, exitCodeFor } from "./exit-codes.ts";

describe("errors as the command line says them", () => {
  it("says a command stopped by a signal was interrupted, and ends it with 130", () => {
    const controller = new AbortController();
    controller.abort();
    const error = (() => {
      try {
        controller.signal.throwIfAborted();
      } catch (e) {
        return e;
      }
    })();

    expect(describeError(error)).toBe("interrupted (SIGINT or SIGTERM)");
    expect(exitCodeFor(error)).toBe(EXIT.interrupted);
  });

  it("says an imvault error's own message, and ends a usage mistake with its code", () => {
    const error = new ValidationError("--from 2026120400 is after --to 2026120322");

    expect(describeError(error)).toBe("--from 2026120400 is after --to 2026120322");
    expect(exitCodeFor(error)).toBe(EXIT.usage);
  });
});
