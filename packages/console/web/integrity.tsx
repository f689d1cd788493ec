import type { EvidenceStatus, StatusAnswer } from "../src/model/answers.ts";
import { useConsole } from "./context.ts";
import { Countdown, ErrorView, Loading, useRequest, When } from "./ui.tsx";

/** Integrity: the signed digest chain's head and the last verification, as `/v1/status` reports them. */
export function IntegrityScreen() {
  const { api } = useConsole();
  const { result, reload } = useRequest(
    (signal) => api.get<StatusAnswer>("/v1/status?hours=1", signal),
    [api],
  );
  return (
    <section aria-labelledby="integrity-title">
      <div class="titlebar">
        <h1 id="integrity-title">Integrity</h1>
        <div class="controls">
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      <p class="muted">
        Every manifest, media manifest, table file and legal hold is sealed in a chain of signed digests;{" "}
        <code>imvault verify</code> checks the chain and every object it seals (docs/evidence.md).
      </p>
      {result.state === "loading" ? <Loading what="the digest chain" /> : null}
      {result.state === "error" ? <ErrorView error={result.error} retry={reload} /> : null}
      {result.state === "done" ? <Evidence evidence={result.data.evidence} /> : null}
    </section>
  );
}

function Evidence({ evidence }: { evidence: EvidenceStatus | undefined }) {
  if (evidence === undefined) {
    return (
      <p class="notice error" role="alert">
        The API could not read the digest chain's records: <code>imvault verify</code> says why.
      </p>
    );
  }
  const { head, lastVerified } = evidence;
  const verifiedHead = lastVerified !== null && head !== null && lastVerified.headKey === head.key;
  return (
    <dl class="facts evidence">
      <div>
        <dt>Chain head</dt>
        <dd data-testid="chain-head">
          {head === null ? (
            "no digest yet: the first is sealed after the first archived hour"
          ) : (
            <>
              digest <strong>#{head.seq}</strong> · <span class="hash">{head.key}</span>
            </>
          )}
        </dd>
      </div>
      <div>
        <dt>Sealed up to</dt>
        <dd>
          {head === null ? (
            "—"
          ) : (
            <>
              <When ms={Date.parse(head.sealedAt)} seconds /> (<Countdown ms={Date.parse(head.sealedAt)} />)
            </>
          )}
        </dd>
      </div>
      <div>
        <dt>Last verification</dt>
        <dd data-testid="last-verified">
          {lastVerified === null ? (
            <span class="warn">never: run imvault verify</span>
          ) : (
            <>
              <span class={`badge ${lastVerified.ok ? "s-archived" : "s-corrupt"}`}>
                {lastVerified.ok ? "✓ passed" : "✕ failed"}
              </span>{" "}
              <When ms={Date.parse(lastVerified.at)} /> (<Countdown ms={Date.parse(lastVerified.at)} />)
              <p class={lastVerified.ok ? "muted" : "warn"}>{lastVerified.summary}</p>
              {lastVerified.ok ? null : (
                <p class="muted">
                  <code>imvault verify</code> names each problem it found (a manifest it cannot read, a file
                  that differs).
                </p>
              )}
              {head !== null && !verifiedHead ? (
                <p class="muted">
                  Newer digests were sealed since (it checked{" "}
                  <span class="hash">{lastVerified.headKey ?? "no digest"}</span>).
                </p>
              ) : null}
            </>
          )}
        </dd>
      </div>
    </dl>
  );
}
