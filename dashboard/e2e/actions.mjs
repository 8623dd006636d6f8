// Every action of a store, through its button, in Chromium against the real `storeplane dev`
// that run.mjs started (simulated workloads): engine upgrade (Updating, then Ready at the new
// version), custom domains (Pending, then Active, and a refusal in the API's words), a backup
// (Succeeded, and the simulator's "nothing to restore" refusal verbatim), rollouts from the
// Rollouts page (waves filling in to Succeeded; pause, resume and abort of one whose wave is
// held), retry of a Failed store, and a store owned by a Kubernetes Store object (which object,
// and its actions refused with the API's 409). Called by run.mjs with its helpers.
//
// How stores are held on purpose: a ResourceQuota `pods: 0` in the store's namespace refuses
// every new pod, so an upgrade cannot finish; run.mjs gives this dev a short provisioning
// deadline (STOREPLANE_PROVISION_DEADLINE_SECONDS) so the held store turns Failed, and retry
// is tried once the quota is gone.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cluster } from "./explains.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const KUBECTL = join(repo, ".tools", "bin", "kubectl");
const OLD = "2.20.1"; // a catalogue version that upgrades to the default one
const NEW = "2.21.2";

/** Runs the bundled kubectl against the dev's simulator; resolves with its stdout. */
function kubectl(dataDir, args, input) {
  return new Promise((res, rej) => {
    const child = spawn(KUBECTL, ["--kubeconfig", join(dataDir, "kubeconfig"), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("error", rej);
    child.on("exit", (code) => (code === 0 ? res(out) : rej(new Error(`kubectl ${args.join(" ")}: exit ${code}: ${err}`))));
    child.stdin.end(input ?? "");
  });
}

export async function actionsJourneys({ browser, base, token, dataDir, check, assert, api, shot, sleep, LAPTOP, PHONE }) {
  if (!dataDir) {
    console.log("e2e: (the action journeys need the server's data dir; not run against STOREPLANE_URL)");
    return;
  }
  const kube = cluster(dataDir);
  const tag = Date.now().toString(36);
  const context = await browser.newContext({ viewport: LAPTOP });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const heading = () => page.getByRole("heading", { level: 1 });
  const phaseIs = (phase) => heading().locator(`[data-phase="${phase}"]`);

  async function waitStore(id, ok, what, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = (await api(base, `/api/v1/stores/${id}`)).body;
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`store ${id} is not ${what} after ${timeoutMs / 1000} s: ${s.phase}, ${s.last_error ?? ""}`);
      await sleep(250);
    }
  }
  async function create(name, body = {}) {
    const r = await api(base, "/api/v1/stores", {
      method: "POST",
      body: JSON.stringify({ name, engine: "medusa", plan: "small", engine_version: OLD, ...body }),
    });
    assert(r.status === 202, `create ${name} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.id;
  }
  const open = async (id) => {
    await page.goto(`${base}/stores/${encodeURIComponent(id)}`);
    await heading().waitFor();
  };

  // Every store these journeys need, made at once so they provision side by side.
  const made = {};
  const ready = (async () => {
    made.upgrade = await create(`upgrade-${tag}`);
    made.waveA = await create(`wave-a-${tag}`, { labels: { "e2e-rollout": tag } });
    made.waveB = await create(`wave-b-${tag}`, { labels: { "e2e-rollout": tag } });
    made.held = await create(`held-wave-${tag}`, { labels: { "e2e-held": tag } });
    for (const id of Object.values(made)) await waitStore(id, (s) => s.phase === "Ready", "Ready");
  })();
  const signedIn = page.goto(`${base}/#token=${encodeURIComponent(token)}`);

  try {
    await signedIn;
    await heading().filter({ hasText: "Fleet" }).waitFor();

    await check("engine upgrade from the store page: Updating, then Ready at the new version", async () => {
      await ready;
      await open(made.upgrade);
      await page.locator(`[data-engine-version="${OLD}"]`).waitFor();
      await page.getByLabel("Upgrade to").selectOption(NEW);
      await page.getByRole("button", { name: "Upgrade", exact: true }).click();
      await phaseIs("Updating").waitFor({ timeout: 10_000 });
      await page.locator(`[data-engine-version="${NEW}"]`).waitFor();
      await page.getByText(`(running ${OLD})`).waitFor({ timeout: 5_000 }).catch(() => {}); // while the migration runs
      await phaseIs("Ready").waitFor({ timeout: 60_000 });
      const s = await waitStore(made.upgrade, (x) => x.running_engine_version === NEW, `running ${NEW}`, 10_000);
      assert(s.engine_version === NEW && s.phase === "Ready", `API: ${s.phase} ${s.engine_version}/${s.running_engine_version}`);
      await page.getByText("(running", { exact: false }).waitFor({ state: "detached", timeout: 10_000 });
      const refused = await api(base, `/api/v1/stores/${made.upgrade}`, { method: "PATCH", body: JSON.stringify({ engine_version: OLD }) });
      assert(refused.status === 422, `a downgrade answered ${refused.status}`);
      assert((await page.getByLabel("Upgrade to").locator("option").first().textContent()) === "no newer version", "an upgrade is still offered at the newest version");
    });

    await check("domains: one added is Pending, then Active with the Ingress's words; a wildcard is refused in the API's words", async () => {
      await open(made.upgrade);
      const domain = `shop-${tag}.example.com`;
      await page.getByLabel("Custom domains").fill(domain);
      await page.getByRole("button", { name: "Set domains" }).click();
      const row = page.locator(`[data-domain="${domain}"]`);
      await row.getByText("Pending", { exact: true }).waitFor({ timeout: 10_000 });
      await row.getByText("Active", { exact: true }).waitFor({ timeout: 60_000 });
      const s = (await api(base, `/api/v1/stores/${made.upgrade}`)).body;
      const status = s.domains.find((d) => d.name === domain);
      assert(status?.status === "Active", `API: ${JSON.stringify(s.domains)}`);
      assert((await row.textContent()).includes(status.message), `the row says ${await row.textContent()}, the API ${status.message}`);
      const bad = `*.${tag}.example.com`;
      const refused = await api(base, `/api/v1/stores/${made.upgrade}`, { method: "PATCH", body: JSON.stringify({ domains: [bad] }) });
      assert(refused.status === 422, `a wildcard answered ${refused.status}`);
      await page.getByLabel("Custom domains").fill(bad);
      await page.getByRole("button", { name: "Set domains" }).click();
      const alert = page.locator(".domains [role=alert]");
      await alert.waitFor();
      assert((await alert.textContent()).includes(refused.body.detail), `alert: ${await alert.textContent()}; API: ${refused.body.detail}`);
      await phaseIs("Ready").waitFor({ timeout: 30_000 });
    });

    await check("Back up now: the backup is Succeeded; its restore is refused in the API's words (nothing to restore when simulated)", async () => {
      await open(made.upgrade);
      await page.getByRole("button", { name: "Back up now" }).click();
      const row = page.locator("[data-backup]").first();
      await row.locator('[data-backup-status="Succeeded"]').waitFor({ timeout: 30_000 });
      const id = await row.getAttribute("data-backup");
      const backup = (await api(base, `/api/v1/stores/${made.upgrade}/backups`)).body.items.find((b) => b.id === id);
      assert(backup?.status === "Succeeded", `API: ${JSON.stringify(backup)}`);
      assert((await row.textContent()).includes(backup.message), "the backup's message is not shown");
      await row.getByRole("button", { name: "Restore" }).click();
      const alert = page.locator(".backups [role=alert]");
      await alert.waitFor();
      const refused = await api(base, `/api/v1/stores/${made.upgrade}/restore`, { method: "POST", body: JSON.stringify({ backup_id: id }) });
      assert(refused.status === 409, `the restore answered ${refused.status}`);
      assert((await alert.textContent()).includes(refused.body.detail), `alert: ${await alert.textContent()}; API: ${refused.body.detail}`);
      await page.locator(".backups").scrollIntoViewIfNeeded();
      await shot(page, "backups-laptop", LAPTOP);
    });

    await check("a rollout started from the Rollouts page: its waves fill in and it Succeeds", async () => {
      await ready;
      await page.getByRole("link", { name: "Rollouts" }).click();
      await heading().filter({ hasText: "Rollouts" }).waitFor();
      const form = page.getByRole("form", { name: "Start a rollout" });
      await form.getByLabel("Engine").selectOption("medusa");
      await form.getByLabel("To version").selectOption(NEW);
      await form.getByLabel("Stores labelled").fill(`e2e-rollout=${tag}`);
      await form.getByLabel("Waves").fill("1, 100%");
      await form.getByRole("button", { name: "Start rollout" }).click();
      const rollout = await newest(`e2e-rollout`, tag);
      const card = page.locator(`[data-rollout="${rollout.id}"]`);
      await card.waitFor();
      assert(rollout.waves.length === 2 && rollout.stores.length === 2, `API: ${JSON.stringify(rollout.waves)}`);
      await page.locator(`[data-rollout="${rollout.id}"][data-rollout-phase="Succeeded"]`).waitFor({ timeout: 60_000 });
      for (const n of [1, 2]) await card.getByText(`Wave ${n}: 1/1 done`).waitFor();
      const progress = await card.locator("progress").evaluateAll((els) => els.map((e) => `${e.value}/${e.max}`));
      assert(progress.join(",") === "1/1,1/1", `progress bars: ${progress}`);
      for (const id of [made.waveA, made.waveB]) {
        const s = (await api(base, `/api/v1/stores/${id}`)).body;
        assert(s.running_engine_version === NEW, `${s.name} runs ${s.running_engine_version}`);
      }
      await shot(page, "rollouts-laptop", LAPTOP);
      await shot(page, "rollouts-phone", PHONE);
      await page.setViewportSize(LAPTOP);
    });

    let held = null;
    await check("pause, resume and abort a rollout whose wave is held (its store cannot start pods)", async () => {
      await ready;
      held = (await api(base, `/api/v1/stores/${made.held}`)).body;
      await kube("POST", `/api/v1/namespaces/${held.namespace}/resourcequotas`, {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: { name: "e2e-block" },
        spec: { hard: { pods: "0" } },
      });
      await page.goto(`${base}/rollouts`);
      const form = page.getByRole("form", { name: "Start a rollout" });
      await form.getByLabel("To version").selectOption(NEW);
      await form.getByLabel("Stores labelled").fill(`e2e-held=${tag}`);
      await form.getByLabel("Waves").fill("100%");
      await form.getByRole("button", { name: "Start rollout" }).click();
      const rollout = await newest("e2e-held", tag);
      const card = page.locator(`[data-rollout="${rollout.id}"]`);
      const phase = (p) => page.locator(`[data-rollout="${rollout.id}"][data-rollout-phase="${p}"]`);
      await phase("Running").waitFor();
      await card.getByText("Wave 1: 0/1 done").waitFor();
      // Pause once the rollout has started the store's upgrade (a store not started yet
      // would be left alone by the abort, and there would be nothing to retry).
      await waitStore(made.held, (x) => x.engine_version === NEW, `asked for ${NEW} by the rollout`, 20_000);
      await card.getByRole("button", { name: "Pause" }).click();
      await phase("Paused").waitFor();
      await card.getByRole("button", { name: "Resume" }).click();
      await phase("Running").waitFor();
      await card.getByRole("button", { name: "Abort" }).click();
      await phase("Aborted").waitFor();
      assert((await card.getByRole("button").count()) === 0, "an aborted rollout still offers actions");
      const after = (await api(base, `/api/v1/rollouts/${rollout.id}`)).body;
      assert(after.phase === "Aborted", `API: ${after.phase}`);
      assert((await card.textContent()).includes(after.message), `the card does not show the API's message ${after.message}`);
    });

    await check("retry a Failed store from its page: the cause is shown, then Retry brings it to Ready", async () => {
      assert(held, "not run: no held store");
      await open(made.held);
      // The upgrade the rollout started cannot make pods; the short deadline fails it.
      await phaseIs("Failed").waitFor({ timeout: 60_000 });
      const failed = (await api(base, `/api/v1/stores/${made.held}`)).body;
      await page.locator(".problem-detail").filter({ hasText: "not ready by its deadline" }).first().waitFor();
      assert((await page.locator(".problem").first().textContent()).includes(failed.last_error.slice(0, 80)), "the last error is not the API's");
      await shot(page, "detail-failed-laptop", LAPTOP);
      await kube("DELETE", `/api/v1/namespaces/${held.namespace}/resourcequotas/e2e-block`);
      await page.getByRole("button", { name: "Retry" }).click();
      await phaseIs("Ready").waitFor({ timeout: 60_000 });
      const s = (await api(base, `/api/v1/stores/${made.held}`)).body;
      assert(s.running_engine_version === NEW && !s.last_error, `API after retry: ${s.running_engine_version}, ${s.last_error}`);
      assert((await page.getByRole("button", { name: "Retry" }).count()) === 0, "Retry still offered on a Ready store");
    });

    await check("the order check is greyed out on a simulated store, saying why", async () => {
      await open(made.upgrade);
      const run = page.getByRole("button", { name: "Run check" });
      assert(await run.isDisabled(), "Run check is offered on a simulated store");
      assert((await run.getAttribute("title")).includes("simulated"), `its title: ${await run.getAttribute("title")}`);
    });

    await check("a store made by a Store object says which object owns it, and its actions show the API's 409 naming it", async () => {
      const object = `shop-${tag}`;
      await kubectl(
        dataDir,
        ["apply", "-f", "-"],
        JSON.stringify({ apiVersion: "storeplane.dev/v1alpha1", kind: "Store", metadata: { name: object, namespace: "default" }, spec: { engine: "medusa", plan: "small" } }),
      );
      let id = "";
      for (let i = 0; i < 120 && !id; i++) {
        id = (await kubectl(dataDir, ["get", "store", object, "-n", "default", "-o", "jsonpath={.status.storeId}"])).trim();
        if (!id) await sleep(250);
      }
      assert(id, "the Store object has no status.storeId after 30 s");
      const owner = `Store default/${object}`;
      const s = await waitStore(id, (x) => x.phase === "Ready", "Ready");
      assert(s.managed_by === owner, `managed_by: ${s.managed_by}`);
      await open(id);
      await page.locator(`.notice[data-owner="${owner}"]`).getByText(`Managed by the Kubernetes object ${owner}.`).waitFor();
      await page.locator(`[data-managed-by="${owner}"]`).waitFor();
      const refused = await api(base, `/api/v1/stores/${id}/suspend`, { method: "POST" });
      assert(refused.status === 409 && refused.body.detail.includes(owner), `suspend answered ${refused.status}: ${refused.body?.detail}`);
      await page.getByRole("button", { name: "Suspend" }).click();
      const alert = page.locator(".action-error");
      await alert.filter({ hasText: refused.body.detail }).waitFor();
      await page.getByLabel("Plan", { exact: true }).selectOption("medium");
      await page.getByRole("button", { name: "Change plan" }).click();
      await alert.filter({ hasText: refused.body.detail }).waitFor();
      assert((await api(base, `/api/v1/stores/${id}`)).body.plan === "small", "the plan changed through the API");
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, "detail-managed-laptop", LAPTOP, { top: true });
      await page.goto(`${base}/stores?q=${object}`);
      await page.locator(`tr[data-store="${object}"] .managed-tag`).getByText(owner).waitFor();
      // The object's own door still works: kubectl delete removes the store.
      await kubectl(dataDir, ["delete", "store", object, "-n", "default", "--wait=false"]);
      await waitStore(id, (x) => x.phase === "Deleted" || x.phase === "Deleting", "being deleted", 30_000);
    });
    await check("the fleet overview and the stores list with every store these journeys made", async () => {
      await page.goto(`${base}/`);
      await page.locator("[data-fleet-total]").waitFor();
      await page.locator('[data-percentile="p50"] dd').filter({ hasText: /s|min/ }).waitFor();
      const fleet = (await api(base, "/api/v1/fleet")).body;
      await page.locator(`[data-fleet-total="${fleet.total}"]`).waitFor({ timeout: 10_000 });
      assert(fleet.total >= 5 && fleet.by_engine_version[NEW] >= 4, `fleet: ${JSON.stringify(fleet.by_engine_version)}`);
      await shot(page, "fleet-busy-laptop", LAPTOP);
      await shot(page, "fleet-busy-phone", PHONE);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`${base}/stores`);
      await page.locator("tr[data-store]").nth(4).waitFor();
      await shot(page, "list-busy-laptop", { width: 1280, height: 800 });
      await page.setViewportSize(LAPTOP);
    });
  } finally {
    await context.close();
  }

  /** The newest rollout, checked to be the one whose selector has label `key=value`. */
  async function newest(key, value) {
    for (let i = 0; i < 40; i++) {
      const r = (await api(base, "/api/v1/rollouts")).body.items[0];
      if (r?.selector?.labels?.[key] === value) return r;
      await sleep(250);
    }
    throw new Error(`no rollout with selector ${key}=${value}`);
  }
}
