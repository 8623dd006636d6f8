// Accounts (route "/accounts", admins only): the users with their store limits, a form to
// create a member, each user's tokens with Revoke, and Issue token, whose value is shown once.
// A member never sees this page's link (the API answers it a 404, which is shown as such).
import { useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import {
  tokensQuery,
  useCreateUser,
  useIssueToken,
  useRevokeToken,
  useSetStoreLimit,
  usersQuery,
} from "../api/queries";
import type { TokenIssued, User } from "../api/types";
import { ErrorState, Loading, errorMessage } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useTitle } from "../components/useTitle";

export function Accounts() {
  useTitle("Accounts");
  const users = useQuery(usersQuery());
  const [issued, setIssued] = useState<TokenIssued | null>(null);
  return (
    <section aria-labelledby="accounts-heading">
      <div className="page-head">
        <h1 id="accounts-heading">Accounts</h1>
      </div>
      {users.isPending ? (
        <Loading label="Loading users…" />
      ) : users.isError ? (
        <ErrorState
          title={users.error instanceof ApiError && users.error.status === 404 ? "Admins only" : "Could not load the users"}
          error={users.error}
        />
      ) : (
        <>
          <CreateMember />
          {issued && <IssuedToken token={issued} onDone={() => setIssued(null)} />}
          <div className="card">
            <h2>
              Users <span className="count">{users.data.count}</span>
            </h2>
            <ul className="users">
              {users.data.items.map((u) => (
                <UserRow key={u.id} user={u} onIssued={setIssued} />
              ))}
            </ul>
          </div>
        </>
      )}
    </section>
  );
}

function limitFrom(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}

function CreateMember() {
  const create = useCreateUser();
  const [name, setName] = useState("");
  const [limit, setLimit] = useState("");
  const nameId = useId();
  const limitId = useId();
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name: name.trim(), max_live_stores: limitFrom(limit) }, { onSuccess: () => (setName(""), setLimit("")) });
  }
  return (
    <form className="card create-member" onSubmit={submit} aria-label="Create a member">
      <h2>Create a member</h2>
      <p className="muted">A member sees and changes only its own stores.</p>
      <div className="inline-form">
        <label htmlFor={nameId}>User name</label>
        <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
        <label htmlFor={limitId}>Store limit</label>
        <input
          id={limitId}
          type="number"
          min={0}
          value={limit}
          placeholder="server default"
          onChange={(e) => setLimit(e.target.value)}
        />
        <button type="submit" className="btn" disabled={create.isPending || name.trim() === ""}>
          {create.isPending ? "Creating…" : "Create member"}
        </button>
      </div>
      {create.error && (
        <p className="problem-detail" role="alert">
          {errorMessage(create.error)}
        </p>
      )}
      {create.data && <p role="status">Created {create.data.name}. Issue a token below to give it access.</p>}
    </form>
  );
}

function UserRow({ user, onIssued }: { user: User; onIssued: (t: TokenIssued) => void }) {
  const [open, setOpen] = useState(false);
  const [limit, setLimit] = useState(user.max_live_stores == null ? "" : String(user.max_live_stores));
  const [label, setLabel] = useState("");
  const setStoreLimit = useSetStoreLimit(user.id);
  const issue = useIssueToken();
  const limitId = useId();
  const labelId = useId();
  return (
    <li className="user" data-user={user.name}>
      <div className="user-head">
        <strong>{user.name}</strong> <span className="tag">{user.role}</span>
        <span className="muted">
          {user.live_stores} of {user.store_limit ?? "∞"} stores · {user.active_tokens} active{" "}
          {user.active_tokens === 1 ? "token" : "tokens"} · since <RelativeTime iso={user.created_at} />
        </span>
        <button type="button" className="btn btn-quiet" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "Hide tokens" : "Tokens and limit"}
        </button>
      </div>
      {open && (
        <div className="user-body">
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              setStoreLimit.mutate(limitFrom(limit));
            }}
          >
            <label htmlFor={limitId}>Store limit</label>
            <input id={limitId} type="number" min={0} value={limit} placeholder="server default" onChange={(e) => setLimit(e.target.value)} />
            <button type="submit" className="btn" disabled={setStoreLimit.isPending}>
              Set limit
            </button>
            {setStoreLimit.isSuccess && <span role="status">Limit saved.</span>}
          </form>
          {setStoreLimit.error && (
            <p className="problem-detail" role="alert">
              {errorMessage(setStoreLimit.error)}
            </p>
          )}
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              issue.mutate({ user_id: user.id, label: label.trim() }, { onSuccess: (t) => (setLabel(""), onIssued(t)) });
            }}
          >
            <label htmlFor={labelId}>Token label</label>
            <input id={labelId} value={label} placeholder="e.g. laptop" maxLength={64} onChange={(e) => setLabel(e.target.value)} />
            <button type="submit" className="btn" disabled={issue.isPending}>
              Issue token
            </button>
          </form>
          {issue.error && (
            <p className="problem-detail" role="alert">
              {errorMessage(issue.error)}
            </p>
          )}
          <TokenList userId={user.id} />
        </div>
      )}
    </li>
  );
}

function TokenList({ userId }: { userId: string }) {
  const tokens = useQuery(tokensQuery(userId));
  const revoke = useRevokeToken();
  if (tokens.isPending) return <Loading label="Loading tokens…" />;
  if (tokens.isError) return <ErrorState title="Could not load tokens" error={tokens.error} />;
  return (
    <>
      <table className="tokens">
        <caption className="visually-hidden">Tokens</caption>
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">Label</th>
            <th scope="col">Created</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.data.items.map((t) => (
            <tr key={t.id} data-token={t.id}>
              <td className="mono">{t.id}</td>
              <td>{t.label || <span className="muted">–</span>}</td>
              <td>
                <RelativeTime iso={t.created_at} />
              </td>
              <td data-active={String(t.active)}>{t.active ? "active" : "revoked"}</td>
              <td>
                {t.active && (
                  <button type="button" className="btn btn-danger" disabled={revoke.isPending} onClick={() => revoke.mutate(t.id)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {revoke.error && (
        <p className="problem-detail" role="alert">
          {errorMessage(revoke.error)}
        </p>
      )}
    </>
  );
}

function IssuedToken({ token, onDone }: { token: TokenIssued; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="card issued" role="status" aria-label="New token">
      <h2>New token for {token.user_name}</h2>
      <p>
        Copy it now and give it to {token.user_name}: it is shown <strong>this once</strong> and cannot be read back.
      </p>
      <p>
        <code className="token-value" data-token-value>
          {token.value}
        </code>
      </p>
      <div className="action-buttons">
        <button
          type="button"
          className="btn"
          onClick={() => void navigator.clipboard?.writeText(token.value).then(() => setCopied(true), () => undefined)}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" className="btn btn-quiet" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}
