import { useState } from "preact/hooks";
import { ApiError, createApi } from "./api.ts";

/**
 * Sign-in with an API key (API_KEYS): checked against `/v1/status?hours=1`, then kept in this tab's
 * sessionStorage only. The form never submits to the server: the key goes only into the
 * Authorization header of the console's API calls.
 */
export function SignIn({
  notice,
  onSignedIn,
}: {
  notice: string | undefined;
  onSignedIn: (key: string) => void;
}) {
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();

  const submit = async (event: Event) => {
    event.preventDefault();
    const token = key.trim();
    if (token === "") {
      setProblem("Enter an API key.");
      return;
    }
    setBusy(true);
    setProblem(undefined);
    let refused: string | undefined;
    const api = createApi(token, { onUnauthorized: (m) => (refused = m), onWait: () => {} });
    try {
      await api.get("/v1/status?hours=1");
      onSignedIn(token);
    } catch (error) {
      setProblem(
        refused !== undefined
          ? `This key was refused: ${refused}`
          : error instanceof ApiError
            ? error.message
            : "The API could not be reached.",
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <h1>imvault console</h1>
      <p>Sign in with an API key (one of the deployment's API_KEYS). It stays in this tab only.</p>
      {notice === undefined ? null : (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form method="post" action="#" onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-describedby={problem === undefined ? undefined : "signin-problem"}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        {problem === undefined ? null : (
          <p id="signin-problem" class="notice error" role="alert">
            {problem}
          </p>
        )}
      </form>
    </main>
  );
}
