// The login screen: shown instead of every page while the tab has no API token. The token is
// checked against the API before it is kept (sessionStorage, this tab only).
import { useId, useState, type FormEvent } from "react";
import { signIn, signOutNotice } from "../api/auth";
import { toApiError } from "../api/client";
import { useTitle } from "../components/useTitle";

async function check(token: string): Promise<string | null> {
  try {
    const response = await globalThis.fetch(
      new Request(`${globalThis.location?.origin ?? "http://localhost"}/api/v1/plans`, {
        headers: { Authorization: `Bearer ${token}` },
      }),
    );
    if (response.ok) return null;
    const body = await response.json().catch(() => null);
    return toApiError(response, body).message;
  } catch (exc) {
    return `Could not reach storeplane: ${exc instanceof Error ? exc.message : String(exc)}`;
  }
}

export function Login() {
  useTitle("Sign in");
  const id = useId();
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const notice = signOutNotice();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setProblem("Paste an API token first.");
      return;
    }
    setBusy(true);
    const refused = await check(value);
    setBusy(false);
    if (refused) setProblem(refused);
    else signIn(value);
  }

  return (
    <section aria-labelledby={`${id}-heading`} className="narrow">
      <h1 id={`${id}-heading`}>Sign in</h1>
      {notice && !problem && (
        <p className="stale" role="status">
          You were signed out: {notice}
        </p>
      )}
      <form className="create-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-token`}>API token</label>
          <input
            id={`${id}-token`}
            name="token"
            type="password"
            value={token}
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="none"
            aria-invalid={problem ? true : undefined}
            aria-describedby={`${id}-hint`}
            onChange={(e) => {
              setToken(e.target.value);
              setProblem(null);
            }}
          />
          <p id={`${id}-hint`} className="hint">
            A token starts with <code>sp_</code>. <code>storeplane dev</code> keeps its admin token in{" "}
            <code>.data/admin.token</code>; an operator makes one with <code>storeplane tokens create USER</code>. It is
            kept for this tab only.
          </p>
        </div>
        {problem && (
          <div className="problem" role="alert">
            <p className="problem-title">Not signed in.</p>
            <p className="problem-detail">{problem}</p>
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
        </div>
      </form>
    </section>
  );
}
