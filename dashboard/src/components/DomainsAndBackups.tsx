// A store's custom domains (PATCH {"domains": [...]}, each Pending or Active with why) and its
// backups (list, Back up now, Restore one, Expire one). Every refusal is the API's own words.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { api, ApiError, request } from "../api/client";
import { LIVE_INTERVAL_MS, storeKeys } from "../api/queries";
import type { Store } from "../api/types";
import { errorMessage, ErrorState, Loading } from "./States";
import { RelativeTime } from "./Time";

export function Domains({ store }: { store: Store }) {
  const client = useQueryClient();
  const current = (store.domains ?? []).map((d) => d.name);
  const [text, setText] = useState(current.join(", "));
  const id = useId();
  useEffect(() => setText(current.join(", ")), [current.join(",")]);
  const save = useMutation<Store, ApiError, string[]>({
    mutationFn: (domains) =>
      request(api.PATCH("/api/v1/stores/{store_id}", { params: { path: { store_id: store.id } }, body: { domains } })),
    onSuccess: (s) => {
      client.setQueryData(storeKeys.detail(s.id), s);
      return client.invalidateQueries({ queryKey: storeKeys.all });
    },
  });
  return (
    <div className="card domains">
      <h2>Domains</h2>
      <ul className="count-list">
        {(store.domains ?? []).map((d) => (
          <li key={d.name} data-domain={d.name}>
            <span className="mono">{d.name}</span> <span className="tag">{d.status}</span>{" "}
            <span className="muted">{d.message}</span>
          </li>
        ))}
        {current.length === 0 && <li className="muted">Only the store's own host.</li>}
      </ul>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(text.split(",").map((d) => d.trim()).filter(Boolean));
        }}
      >
        <label htmlFor={id}>Custom domains</label>
        <input id={id} value={text} placeholder="shop.example.com, www.shop.example.com" onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="btn" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Set domains"}
        </button>
      </form>
      {save.error && (
        <p className="problem-detail" role="alert">
          {errorMessage(save.error)}
        </p>
      )}
    </div>
  );
}

export function Backups({ store }: { store: Store }) {
  const client = useQueryClient();
  const key = [...storeKeys.detail(store.id), "backups"] as const;
  const backups = useQuery({
    queryKey: key,
    queryFn: ({ signal }) =>
      request(api.GET("/api/v1/stores/{store_id}/backups", { params: { path: { store_id: store.id } }, signal })),
    refetchInterval: (q) => (q.state.data?.items.some((b) => b.status === "Running") ? LIVE_INTERVAL_MS : false),
    retry: false,
  });
  const done = () => client.invalidateQueries({ queryKey: storeKeys.detail(store.id) });
  const backup = useMutation<unknown, ApiError, void>({
    mutationFn: () => request(api.POST("/api/v1/stores/{store_id}/backups", { params: { path: { store_id: store.id } } })),
    onSuccess: done,
  });
  const restore = useMutation<unknown, ApiError, string>({
    mutationFn: (backup_id) =>
      request(api.POST("/api/v1/stores/{store_id}/restore", { params: { path: { store_id: store.id } }, body: { backup_id } })),
    onSuccess: done,
  });
  const expire = useMutation<unknown, ApiError, string>({
    mutationFn: (backup_id) =>
      request(api.DELETE("/api/v1/stores/{store_id}/backups/{backup_id}", { params: { path: { store_id: store.id, backup_id } } })),
    onSuccess: done,
  });
  const error = backup.error ?? restore.error ?? expire.error;
  const busy = backup.isPending || restore.isPending || expire.isPending;
  return (
    <div className="card backups">
      <h2>
        Backups {backups.data && <span className="count">{backups.data.items.length}</span>}
      </h2>
      <div className="action-buttons">
        <button type="button" className="btn" disabled={busy} onClick={() => backup.mutate()}>
          {backup.isPending ? "Asking…" : "Back up now"}
        </button>
      </div>
      {error && (
        <p className="problem-detail" role="alert">
          {errorMessage(error)}
        </p>
      )}
      {backups.isPending ? (
        <Loading label="Loading backups…" />
      ) : backups.isError ? (
        <ErrorState title="Could not list backups" error={backups.error} />
      ) : backups.data.items.length === 0 ? (
        <p className="muted">No backups yet.</p>
      ) : (
        <table className="tokens">
          <caption className="visually-hidden">Backups</caption>
          <thead>
            <tr>
              <th scope="col">Backup</th>
              <th scope="col">Status</th>
              <th scope="col">Size</th>
              <th scope="col">Started</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {backups.data.items.map((b) => (
              <tr key={b.id} data-backup={b.id}>
                <td className="mono">{b.id}</td>
                <td data-backup-status={b.status}>
                  {b.status}
                  {b.message && <span className="muted backup-message">{b.message}</span>}
                </td>
                <td>{b.size_bytes == null ? "–" : `${(b.size_bytes / 1024).toFixed(0)} KiB`}</td>
                <td>
                  <RelativeTime iso={b.started_at} />
                </td>
                <td>
                  {b.status === "Succeeded" && (
                    <>
                      <button type="button" className="btn btn-small" disabled={busy} onClick={() => restore.mutate(b.id)}>
                        Restore
                      </button>{" "}
                      <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => expire.mutate(b.id)}>
                        Expire
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
