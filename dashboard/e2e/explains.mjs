// The dashboard explains itself, in Chromium against the real `storeplane dev`: a store held
// in Deleting (a ConfigMap with a finalizer keeps its namespace Terminating in the simulator)
// shows teardown conditions, no live link and greyed-out actions that say why; once deleted
// it is left out of "All phases but Deleted" and listed with "Include deleted".
// Called by run.mjs with its helpers; needs the data dir of the server it started (for the
// simulator's kubeconfig), so it is skipped against STOREPLANE_URL.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const HOLD = "storeplane.dev/e2e-hold";

/** The simulated cluster of the dev server: its URL and token from <data dir>/kubeconfig. */
export function cluster(dataDir) {
  const text = readFileSync(join(dataDir, "kubeconfig"), "utf8");
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  const token = /token:\s*(\S+)/.exec(text)?.[1];
  if (!server) throw new Error(`no server in ${join(dataDir, "kubeconfig")}`);
  return async (method, path, body, contentType = "application/json") => {
    const r = await fetch(`${server}${path}`, {
      method,
      headers: { "content-type": contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
}

/** Runs the checks; `t` is { browser, base, token, dataDir, check, assert, api, shot, viewport, sleep }. */
export async function explainsJourneys({ browser, base, token, dataDir, check, assert, api, shot, viewport, sleep }) {
  if (!dataDir) {
    console.log("e2e: (the Deleting checks need the server's data dir; not run against STOREPLANE_URL)");
    return;
  }
  const kube = cluster(dataDir);
  const name = `held-${Date.now().toString(36)}`;
  let store = null;
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const signedIn = page.goto(`${base}/#token=${encodeURIComponent(token)}`);

  async function waitPhase(id, phase, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = (await api(base, `/api/v1/stores/${id}`)).body;
      if (s.phase === phase) return s;
      if (Date.now() > deadline) throw new Error(`store ${id} is ${s.phase}, not ${phase}, after ${timeoutMs / 1000} s`);
      await sleep(250);
    }
  }

  try {
    await signedIn;
    await page.getByRole("heading", { level: 1 }).filter({ hasText: "Fleet" }).waitFor();

    await check("a store being deleted shows teardown conditions, no live link, and says why its actions are greyed out", async () => {
      const created = await api(base, "/api/v1/stores", {
        method: "POST",
        body: JSON.stringify({ name, engine: "medusa", plan: "small" }),
      });
      assert(created.status === 202, `create answered ${created.status}`);
      store = await waitPhase(created.body.id, "Ready", 60_000);
      await kube("POST", `/api/v1/namespaces/${store.namespace}/configmaps`, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "e2e-hold", finalizers: [HOLD] },
        data: { why: "keeps the namespace Terminating so the store stays Deleting" },
      });
      await page.goto(`${base}/stores/${encodeURIComponent(store.id)}`);
      await page.getByRole("heading", { level: 1 }).filter({ hasText: name }).waitFor();
      await page.getByRole("link", { name: store.url }).waitFor(); // live while Ready
      await page.getByRole("button", { name: "Delete…" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByRole("textbox").fill(name);
      await dialog.getByRole("button", { name: "Delete store" }).click();
      await dialog.waitFor({ state: "detached" });
      await page.getByRole("heading", { level: 1 }).locator('[data-phase="Deleting"]').waitFor();
      // The reconciler deletes the namespace; the finalizer keeps it Terminating.
      const row = (type) => page.locator(`tr[data-condition="${type}"]`);
      await row("NamespaceReady").getByText(`namespace ${store.namespace} is being deleted`).waitFor({ timeout: 30_000 });
      for (const type of ["NamespaceReady", "PoliciesApplied", "WorkloadsApplied", "WorkloadsReady", "StoreReachable", "Ready"]) {
        const status = await row(type).locator("td").first().textContent();
        assert(status.includes("False"), `${type} is ${status} while Deleting`);
      }
      const reachable = await row("StoreReachable").textContent();
      assert(reachable.includes("no longer serves"), `StoreReachable says ${reachable}`);
      assert((await page.getByText("namespace is active").count()) === 0, "a condition still says the namespace is active");
      assert((await page.getByRole("link", { name: store.url }).count()) === 0, "the URL is still offered as a live link");
      await page.getByText(`${store.url} (being deleted)`).waitFor();
      const remove = page.getByRole("button", { name: "Delete…" });
      assert(await remove.isDisabled(), "Delete is offered again");
      assert((await remove.getAttribute("title")) === "The store is already being deleted.", `Delete's title: ${await remove.getAttribute("title")}`);
      const described = await remove.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent);
      assert(described === "The store is already being deleted.", `Delete's accessible description: ${described}`);
      const change = page.getByRole("button", { name: "Change plan" });
      assert((await change.getAttribute("title")) === "The store is being deleted: it can no longer change.", `Change plan's title: ${await change.getAttribute("title")}`);
      await page.getByText("The store is being deleted: it can no longer change.", { exact: true }).first().waitFor();
      await change.hover({ force: true });
      await shot(page, "detail-deleting-laptop", viewport);
      await page.goto(`${base}/stores`);
      const listRow = page.locator(`tr[data-store="${name}"]`);
      await listRow.locator('[data-phase="Deleting"]').waitFor();
      assert((await listRow.getByRole("link", { name: /localtest|localhost/ }).count()) === 0, "the list offers the URL of a deleting store as a link");
      await listRow.getByText("being deleted").waitFor();
    });

    await check("once deleted, All phases but Deleted leaves the store out and Include deleted lists it", async () => {
      assert(store, "not run: no held store");
      const held = await kube("GET", `/api/v1/namespaces/${store.namespace}/configmaps/e2e-hold`);
      await kube("PUT", `/api/v1/namespaces/${store.namespace}/configmaps/e2e-hold`, {
        ...held,
        metadata: { ...held.metadata, finalizers: [] },
      });
      await waitPhase(store.id, "Deleted", 60_000);
      await page.goto(`${base}/stores?q=${name}`);
      await page.getByText("No stores match these filters.").waitFor();
      const phase = page.getByLabel("Phase");
      assert((await phase.locator("option:checked").textContent()) === "All phases but Deleted", "the phase filter does not say it leaves Deleted out");
      const box = page.getByRole("checkbox", { name: "Include deleted" });
      assert((await box.getAttribute("aria-describedby")) !== null, "the switch has no description");
      await box.check();
      await page.waitForURL(/deleted=1/);
      const listRow = page.locator(`tr[data-store="${name}"]`);
      await listRow.locator('[data-phase="Deleted"]').waitFor();
      await listRow.getByText("removed").waitFor();
      assert((await phase.locator("option:checked").textContent()) === "All phases", "with deleted stores the option should read All phases");
      await shot(page, "list-include-deleted-laptop", viewport);
    });
  } finally {
    await context.close();
  }
}
