// One real Medusa store in a second `storeplane dev` (local runtimes on: the simulator's node
// runs Medusa, PostgreSQL and Redis as processes), in Chromium: its server pod's logs (the
// container choice, the number of lines, Follow picking up a request made meanwhile), the
// order check (Passed, with the order's id), and a backup restored (Restoring, then Ready).
// run.mjs starts that dev at the beginning and creates the store at once, and runs these
// checks beside the others (their own browser context): the ≈ 60 s the store takes to be Ready
// and the checks themselves overlap the simulated journeys.
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Why the real-store runtime is missing here (null: it is present). CI installs it with
 * scripts/setup.sh --test. */
export function missingRealRuntime() {
  const pg = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/pg_dump`)) : false;
  if (!pg) return "PostgreSQL's server and tools are not installed (scripts/setup.sh --test installs them)";
  const path = (process.env.PATH ?? "").split(":");
  if (!path.some((d) => existsSync(join(d, "redis-server"))) && !existsSync("/usr/bin/redis-server")) return "redis-server is not installed (scripts/setup.sh --test installs it)";
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  const app = process.env.STOREPLANE_MEDUSA_DIR ?? join(cache, "storeplane", "medusa-app");
  if (!existsSync(join(app, "app", ".medusa", "server"))) return `the Medusa app is not built in ${app} (scripts/medusa-local.sh install)`;
  return null;
}

/** Runs the checks; `real` is { base, token, storeId: Promise<string>, createdAt (ms) } of the
 * second dev. */
export async function realJourneys({ browser, real, check, assert, shot, sleep, LAPTOP, PHONE }) {
  const { base, token } = real;
  const call = async (path, init) => {
    const r = await fetch(`${base}${path}`, { ...init, headers: { "content-type": "application/json", authorization: `Bearer ${token}` } });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const context = await browser.newContext({ viewport: LAPTOP });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const heading = () => page.getByRole("heading", { level: 1 });
  const phaseIs = (phase) => heading().locator(`[data-phase="${phase}"]`);
  let store = null;
  let pod = null;

  try {
    await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
    await heading().filter({ hasText: "Fleet" }).waitFor();

    await check("real runtime: a Medusa store run as local processes reaches Ready", async () => {
      const id = await real.storeId;
      // Counted from the store's creation (the start of the run), so a store that never gets
      // there ends the real checks well before run.mjs's overall time-out.
      const deadline = real.createdAt + 240_000;
      for (;;) {
        store = (await call(`/api/v1/stores/${id}`)).body;
        if (store.phase === "Ready" || store.phase === "Failed" || Date.now() > deadline) break;
        await sleep(1000);
      }
      if (store.phase !== "Ready") {
        const events = (await call(`/api/v1/stores/${id}/events`)).body.items.slice(0, 2);
        const last = events.map((e) => `${e.reason}: ${e.message}`).join(" | ");
        throw new Error(`the real store is ${store.phase} ${Math.round((Date.now() - real.createdAt) / 1000)} s after it was created: ${store.last_error ?? last.slice(0, 400)}`);
      }
      assert(store.workload_runtime === "local", `its runtime is ${store.workload_runtime}`);
      await page.goto(`${base}/stores/${encodeURIComponent(id)}`);
      await phaseIs("Ready").waitFor();
      await page.locator('[data-runtime="local"]').waitFor();
    });

    await check("real runtime: the server pod's logs in the browser — container choice, lines, and Follow", async () => {
      assert(store?.phase === "Ready", "not run: the real store is not Ready");
      const objects = (await call(`/api/v1/stores/${store.id}/objects`)).body.items;
      pod = objects.find((o) => o.kind === "Pod" && o.parent === "Deployment/medusa-server");
      assert(pod, `no server pod among ${objects.filter((o) => o.kind === "Pod").map((o) => o.name)}`);
      const main = pod.containers.at(-1);
      const init = pod.containers.find((c) => c !== main);
      assert(main === "server" && init, `containers: ${pod.containers}`);
      await page.locator(`[data-object="Pod/${pod.name}"]`).getByRole("button", { name: "Logs" }).click();
      const panel = page.locator(".logs");
      const pre = (c) => page.locator(`pre[data-log="${pod.name}/${c}"]`);
      // The main container first: what Medusa printed as it started and served.
      await pre(main).filter({ hasText: "Creating server" }).waitFor();
      let shown = (await pre(main).textContent()).trim().split("\n");
      let api = (await call(`/api/v1/stores/${store.id}/logs?pod=${pod.name}&container=${main}&tail=500`)).body;
      assert(api.text.includes(shown.at(-1)), `the panel's last line is not in the logs API's answer: ${shown.at(-1).slice(0, 160)}`);
      // Another container of the same pod.
      await panel.getByLabel("Container").selectOption(init);
      const initText = (await call(`/api/v1/stores/${store.id}/logs?pod=${pod.name}&container=${init}&tail=500`)).body.text;
      await pre(init).waitFor();
      const first = initText.trim().split("\n")[0];
      assert(first && (await pre(init).textContent()).includes(first), `the ${init} panel does not show ${first}`);
      // Fewer lines: the panel asks the API for 100 and shows at most that many.
      await panel.getByLabel("Container").selectOption(main);
      const asked = page.waitForRequest((r) => r.url().includes("/logs?") && r.url().includes("tail=100"));
      await panel.getByLabel("Lines").selectOption("100");
      await asked;
      await pre(main).waitFor();
      shown = (await pre(main).textContent()).trim().split("\n");
      assert(shown.length <= 100, `${shown.length} lines shown for 100`);
      // Follow: a request to the shop made now appears without touching the page.
      await panel.getByLabel("Follow").check();
      const marker = `e2e-follow=${Date.now().toString(36)}`;
      const visitor = await context.newPage();
      await visitor.goto(`${store.url}/store/regions?${marker}`).catch(() => {}); // a 400 without a key, but logged
      await visitor.close();
      await pre(main).filter({ hasText: marker }).waitFor({ timeout: 15_000 });
      api = (await call(`/api/v1/stores/${store.id}/logs?pod=${pod.name}&container=${main}&tail=100`)).body;
      assert(api.text.includes(marker), "the logs API does not have the request either");
      await panel.scrollIntoViewIfNeeded();
      await shot(page, "logs-real-laptop", LAPTOP, { locator: panel });
      await shot(page, "logs-real-phone", PHONE, { locator: panel });
      await page.setViewportSize(LAPTOP);
    });

    await check("real runtime: Run check places an order and shows Passed with its order id", async () => {
      assert(store?.phase === "Ready", "not run: the real store is not Ready");
      const card = page.locator(".order-check");
      await card.getByRole("button", { name: "Run check" }).click();
      const outcome = card.locator(".check-passed, .check-failed");
      await outcome.waitFor({ timeout: 90_000 }).catch(async (exc) => {
        throw new Error(`${exc.message.split("\n")[0]}: the card says ${await card.textContent()}`);
      });
      if (await card.locator(".check-failed").count()) throw new Error(`the check failed: ${await outcome.textContent()}`);
      const latest = (await call(`/api/v1/stores/${store.id}/checks`)).body.items[0];
      assert(latest.status === "Passed" && latest.order_id, `API: ${JSON.stringify(latest)}`);
      await card.getByText(latest.order_id, { exact: true }).waitFor();
      if (pod) await page.locator(`pre[data-log="${pod.name}/server"]`).filter({ hasText: "/store/carts" }).waitFor({ timeout: 15_000 });
      await card.scrollIntoViewIfNeeded();
      await shot(page, "check-passed-laptop", LAPTOP);
    });

    await check("real runtime: Back up now (Succeeded, with data), then Restore: Restoring, then Ready", async () => {
      assert(store?.phase === "Ready", "not run: the real store is not Ready");
      const card = page.locator(".backups");
      await card.getByRole("button", { name: "Back up now" }).click();
      const row = card.locator("[data-backup]").first();
      await row.locator('[data-backup-status="Succeeded"]').waitFor({ timeout: 60_000 });
      const id = await row.getAttribute("data-backup");
      const backup = (await call(`/api/v1/stores/${store.id}/backups`)).body.items.find((b) => b.id === id);
      assert(backup?.status === "Succeeded" && backup.size_bytes > 0, `API: ${JSON.stringify(backup)}`);
      await row.getByRole("button", { name: "Restore" }).click();
      await phaseIs("Restoring").waitFor({ timeout: 10_000 });
      await phaseIs("Ready").waitFor({ timeout: 120_000 });
      const after = (await call(`/api/v1/stores/${store.id}`)).body;
      assert(after.phase === "Ready" && !after.last_error, `API: ${after.phase} ${after.last_error ?? ""}`);
      const events = (await call(`/api/v1/stores/${store.id}/events`)).body.items.map((e) => e.reason);
      assert(events.some((r) => /Restor/.test(r)), `no restore event among ${events.slice(0, 10)}`);
    });
  } finally {
    await context.close();
  }
}
