import { readChain } from "../src/model/features.ts";
import { useConsole } from "./context.ts";
import { ErrorView, Loading, NotAvailable, useRequest, When } from "./ui.tsx";

/** Integrity: the digest chain's head and its last verification, when `/v1/status` carries them. */
export function IntegrityScreen() {
  const { api } = useConsole();
  const { result, reload } = useRequest((signal) => api.get<unknown>("/v1/status?hours=1", signal), [api]);
  const chain = result.state === "done" ? readChain(result.data) : undefined;
  return (
    <section aria-labelledby="integrity-title">
      <h1 id="integrity-title">Integrity</h1>
      {result.state === "loading" ? <Loading what="the digest chain" /> : null}
      {result.state === "error" ? <ErrorView error={result.error} retry={reload} /> : null}
      {result.state === "done" && chain === undefined ? (
        <NotAvailable what="The signed digest chain">
          <p>
            Until it is, <code>imvault verify</code> re-hashes the stored files against their manifests.
          </p>
        </NotAvailable>
      ) : null}
      {chain === undefined ? null : (
        <dl class="facts">
          <div>
            <dt>Chain head</dt>
            <dd class="hash">{chain.head?.key ?? "—"}</dd>
          </div>
          <div>
            <dt>Head SHA-256</dt>
            <dd class="hash">{chain.head?.sha256 ?? "—"}</dd>
          </div>
          <div>
            <dt>Signed at</dt>
            <dd>
              {chain.head?.signedAt === undefined ? (
                "—"
              ) : (
                <When ms={Date.parse(chain.head.signedAt)} seconds />
              )}
            </dd>
          </div>
          {chain.length === undefined ? null : (
            <div>
              <dt>Digests</dt>
              <dd>{chain.length}</dd>
            </div>
          )}
          <div>
            <dt>Last verification</dt>
            <dd>
              {chain.lastVerification === undefined ? (
                "never reported"
              ) : (
                <>
                  <span class={`badge ${chain.lastVerification.ok === false ? "s-corrupt" : "s-archived"}`}>
                    {chain.lastVerification.ok === false ? "failed" : "passed"}
                  </span>{" "}
                  {chain.lastVerification.at === undefined ? null : (
                    <When ms={Date.parse(chain.lastVerification.at)} />
                  )}
                  {chain.lastVerification.checked === undefined
                    ? null
                    : `, ${chain.lastVerification.checked} checked`}
                  {chain.lastVerification.problem === undefined ? null : (
                    <p class="warn">{chain.lastVerification.problem}</p>
                  )}
                </>
              )}
            </dd>
          </div>
        </dl>
      )}
    </section>
  );
}
