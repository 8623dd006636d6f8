// End-to-end journeys of the web console against a REAL `storeplane dev`, driven by
// playwright-core with Debian's Chromium (never a downloaded browser).
//
//   node e2e/run.mjs            starts `<repo>/.venv/bin/storeplane dev` on a free port with a
//                               temporary data dir, and stops it (by PID) at the end
//   STOREPLANE_URL=http://... STOREPLANE_TOKEN=sp_... node e2e/run.mjs    uses a running storeplane instead
//                               (the token defaults to the one in <repo>/.data/admin.token)
//   CHROMIUM_PATH=/path/to/chromium               another browser binary (default /usr/bin/chromium)
//   E2E_ONLY=text node e2e/run.mjs                 only the checks whose name contains text
//   E2E_NO_REAL=1 node e2e/run.mjs                 leave out the real-Medusa journeys (real.mjs)
//   E2E_DOCS_IMAGES=1 node e2e/run.mjs             also retake docs/images/ (see DOCS_IMAGES)
//
// Two devs run side by side: one with --simulate-workloads (every journey but real.mjs's; a
// short provisioning deadline so a held store turns Failed quickly, see actions.mjs) and, when
// the real-store runtime is installed (scripts/setup.sh --test), one running a real Medusa
// store as local processes for real.mjs, started first so that store provisions meanwhile.
//
// Needs a built dashboard (scripts/build-dashboard.sh). Screenshots go to
// <repo>/test-output/dashboard/. Prints one line per check and ends with
// "e2e: N passed, M failed"; exits non-zero if anything failed.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { docsJourneys } from "./docs.mjs";
import { consoleJourneys } from "./console.mjs";
import { explainsJourneys } from "./explains.mjs";
import { actionsJourneys } from "./actions.mjs";
import { missingRealRuntime, realJourneys } from "./real.mjs";

const dashboard = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(dashboard, "..");
const outDir = join(repo, "test-output", "dashboard");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
];
const LAPTOP = { width: 1366, height: 860 };
const PHONE = { width: 390, height: 844 };
const OVERALL_TIMEOUT_MS = (process.env.E2E_MEASURE ? 10 : 7) * 60_000;
const log = (msg) => console.log(`e2e: ${msg}`);

let server = null; // the simulated dev: { child, dataDir, output }
let realServer = null; // the real-Medusa dev, when the runtime is installed
const servers = []; // every dev started, stopped by PID at the end
let browser = null;
let token = null; // the admin token storeplane dev wrote to <data dir>/admin.token

// ---------- the server ----------

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Starts `storeplane dev` (simulated workloads unless `real`); resolves with its URL and
 * the started server ({ child, dataDir, output }). */
async function startServer({ real = false } = {}) {
  const bin = join(repo, ".venv", "bin", "storeplane");
  if (!existsSync(bin)) throw new Error(`${bin} not found: create the Python environment first`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), real ? "storeplane-e2e-real-" : "storeplane-e2e-"));
  // The backup Job's folder target is written by Debian's postgres user when this runs as
  // root (the node runs PostgreSQL's tools as that user); mkdtemp's folder is private (0700).
  if (real) chmodSync(dataDir, 0o755);
  const args = ["dev", "--port", String(port), "--data-dir", dataDir, ...(real ? ["--ready-delay", "0.5"] : ["--simulate-workloads"])];
  log(`starting ${bin} ${args.join(" ")}`);
  const child = spawn(bin, args, {
    cwd: repo,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      NO_COLOR: "1",
      TERM: "dumb",
      // actions.mjs holds a store on purpose and waits for it to turn Failed: keep that short.
      ...(real ? {} : { STOREPLANE_PROVISION_DEADLINE_SECONDS: process.env.STOREPLANE_PROVISION_DEADLINE_SECONDS ?? "15" }),
    },
  });
  const started = { child, dataDir, output: "" };
  servers.push(started);
  let announced = null;
  const onData = (chunk) => {
    started.output += chunk.toString();
    const m = /running at (http:\/\/[^\s)]+)/.exec(started.output);
    if (m && !announced) announced = m[1].replace(/\/$/, "");
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`storeplane dev exited with ${child.exitCode}:\n${started.output.slice(-3000)}`);
    const base = announced ?? `http://127.0.0.1:${port}`;
    if (await isReady(base)) return { base, started };
    await sleep(250);
  }
  throw new Error(`storeplane dev did not answer /readyz within 60 s:\n${started.output.slice(-3000)}`);
}

async function isReady(base) {
  try {
    const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

async function stopServer(one) {
  const { child, dataDir } = one;
  if (child.exitCode === null && child.signalCode === null) {
    log(`stopping storeplane dev (pid ${child.pid})`);
    const exited = new Promise((res) => child.once("exit", res));
    // Ctrl-C: the dev stops the processes its simulator's node runs (a real store's Medusa,
    // PostgreSQL, Redis) before it exits (SIGTERM does the same since tests/cli/test_dev_signals.py).
    child.kill("SIGINT");
    const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
    if (timedOut) {
      log(`pid ${child.pid} ignored SIGINT for 20 s; sending SIGKILL`);
      child.kill("SIGKILL");
      await exited;
    }
  }
  // Retried: a container process of the real dev may still be closing its files.
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- the checks ----------

const results = [];
async function check(name, fn) {
  if (process.env.E2E_ONLY && !name.includes(process.env.E2E_ONLY)) return;
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`PASS  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (exc) {
    results.push({ name, ok: false });
    log(`FAIL  ${name}: ${exc instanceof Error ? exc.message.split("\n").slice(0, 6).join("\n      ") : exc}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function api(base, path, init) {
  const r = await fetch(`${base}${path}`, {
    ...init,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...(init?.headers ?? {}) },
  });
  const body = await r.json().catch(() => null);
  return { status: r.status, body };
}

// The screenshots the README and docs show, by the name a journey gives them: with
// E2E_DOCS_IMAGES=1 each is also written to docs/images/ under its docs name (that is how
// docs/images/console-*.png are retaken, from a green run of the current UI).
const DOCS_IMAGES = {
  "fleet-busy-laptop": "console-fleet-laptop",
  "fleet-busy-phone": "console-fleet-phone",
  "list-busy-laptop": "dashboard-list",
  "detail-laptop": "dashboard-detail",
  "tree-laptop": "console-tree-laptop",
  "tree-phone": "console-tree-phone",
  "yaml-secret-laptop": "console-yaml-secret-laptop",
  "accounts-laptop": "console-accounts-laptop",
  "accounts-phone": "console-accounts-phone",
  "rollouts-laptop": "console-rollouts-laptop",
  "rollouts-phone": "console-rollouts-phone",
  "detail-managed-laptop": "console-managed-laptop",
  "logs-real-laptop": "console-logs-laptop",
  "logs-real-phone": "console-logs-phone",
};

/** A full-page screenshot at `viewport`; `only`: { locator } for one element, { top: true }
 * for the first screen only. */
async function shot(page, name, viewport, only = {}) {
  await page.setViewportSize(viewport);
  await sleep(150); // let layout settle after the resize
  const file = join(outDir, `${name}.png`);
  if (only.locator) await only.locator.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: !only.top });
  log(`      screenshot ${file.slice(repo.length + 1)}`);
  if (process.env.E2E_DOCS_IMAGES && DOCS_IMAGES[name]) {
    const docs = join(repo, "docs", "images", `${DOCS_IMAGES[name]}.png`);
    copyFileSync(file, docs);
    log(`      and ${docs.slice(repo.length + 1)}`);
  }
}

/** Why a store is not where a check expected it: its phase and its first non-True condition. */
async function storeStatus(base, id) {
  const { body: s } = await api(base, `/api/v1/stores/${id}`);
  if (!s?.phase) return "(store not readable)";
  const bad = (s.conditions ?? []).find((c) => c.status !== "True" && c.type !== "Ready");
  return `store is ${s.phase}${bad ? `; ${bad.type}=${bad.status} ${bad.reason}: ${bad.message}` : ""}${s.last_error ? `; last_error: ${s.last_error}` : ""}`;
}

/** Waits for `locator`; on time-out, says what the API reports about the store. */
async function waitOrExplain(locator, base, id, timeout) {
  try {
    await locator.waitFor({ timeout });
  } catch (exc) {
    throw new Error(`${exc.message.split("\n")[0]} — ${await storeStatus(base, id)}`);
  }
}

async function journeys(base) {
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_FLAGS, headless: true });
  const context = await browser.newContext({ viewport: LAPTOP });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (msg) => msg.type() === "error" && pageErrors.push(`console: ${msg.text()}`));

  // The real-Medusa journeys run beside the others (their own browser context and dev): they
  // wait for their store to be Ready, then take under a minute that would otherwise come last.
  const realDone = realServer
    ? realJourneys({ browser, real: realServer, check, assert, shot, sleep, LAPTOP, PHONE }).catch((exc) => {
        results.push({ name: "the real-Medusa journeys", ok: false });
        log(`FAIL  the real-Medusa journeys: ${exc instanceof Error ? exc.message.split("\n")[0] : exc}`);
      })
    : null;

  const name = `e2e-${Date.now().toString(36)}`;
  let storeId = null;
  const needStore = () => assert(storeId, "not run: the store was not created");
  const heading = () => page.getByRole("heading", { level: 1 });

  await check("without a token only the login screen shows, and the API refuses to answer", async () => {
    const r = await page.goto(`${base}/`);
    assert(r?.ok(), `GET / answered ${r?.status()}; is dashboard/dist built (scripts/build-dashboard.sh)?`);
    await heading().filter({ hasText: "Sign in" }).waitFor();
    assert((await page.getByRole("link", { name: "New store" }).count()) === 0, "New store offered before signing in");
    const anonymous = await fetch(`${base}/api/v1/stores`);
    assert(anonymous.status === 401, `the API answered ${anonymous.status} without a token`);
    assert((anonymous.headers.get("www-authenticate") ?? "").startsWith("Bearer"), "no WWW-Authenticate: Bearer");
    await shot(page, "login-laptop", LAPTOP);
  });

  await check("a wrong token is refused with the API's words; the dev token signs in", async () => {
    await page.getByLabel("API token").fill("sp_not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert((await alert.textContent()).includes("unknown or revoked"), `alert says ${await alert.textContent()}`);
    await page.getByLabel("API token").fill(token);
    await page.keyboard.press("Enter");
    await heading().filter({ hasText: "Fleet" }).waitFor();
    const kept = await page.evaluate(() => sessionStorage.getItem("storeplane.token"));
    assert(kept === token, "the token is not kept for the tab");
  });

  await check("a #token= link signs a new tab in and leaves the address clean", async () => {
    const other = await browser.newContext({ viewport: LAPTOP });
    try {
      const tab = await other.newPage();
      await tab.goto(`${base}/#token=${encodeURIComponent(token)}`);
      await tab.getByRole("heading", { level: 1 }).filter({ hasText: "Fleet" }).waitFor();
      assert(!tab.url().includes("token"), `the token is still in the address: ${tab.url()}`);
    } finally {
      await other.close();
    }
  });

  await check("the dashboard is served at / (the fleet) with its stores list at /stores", async () => {
    const r = await page.goto(`${base}/stores`);
    assert(r?.ok(), `GET / answered ${r?.status()}`);
    await heading().filter({ hasText: "Stores" }).waitFor();
    await page.getByText(/No stores yet\.|\d+ stores?/).first().waitFor();
  });

  await check("keyboard: Tab reaches real links with a visible focus ring, Enter follows them", async () => {
    await page.goto(`${base}/stores`);
    await heading().filter({ hasText: "Stores" }).waitFor();
    const seen = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      const el = await page.evaluate(() => {
        const a = document.activeElement;
        const cs = getComputedStyle(a);
        return { tag: a.tagName, text: a.textContent.trim(), ring: cs.outlineStyle !== "none" && cs.outlineWidth !== "0px" };
      });
      seen.push(el);
      if (el.tag === "A" && el.text === "New store") break;
    }
    const last = seen.at(-1);
    assert(last.tag === "A" && last.text === "New store", `Tab never reached "New store": ${JSON.stringify(seen)}`);
    const noRing = seen.filter((e) => !e.ring);
    assert(noRing.length === 0, `focus not visible on ${JSON.stringify(noRing)}`);
    await page.keyboard.press("Enter");
    await heading().filter({ hasText: "New store" }).waitFor();
    assert(new URL(page.url()).pathname === "/new", `Enter led to ${page.url()}`);
  });

  await check("create a store through the form (keyboard submit)", async () => {
    await page.getByRole("link", { name: "New store" }).first().click();
    await heading().filter({ hasText: "New store" }).waitFor();
    await page.getByRole("radio", { name: "MedusaJS" }).check();
    await page.getByRole("radio", { name: /^small/ }).check();
    // Quotas come from GET /api/v1/plans.
    await page.getByRole("radio", { name: /^medium/ }).locator("xpath=..").getByText("Pods").waitFor();
    await shot(page, "create-laptop", LAPTOP);
    const field = page.getByLabel("Name");
    await field.click();
    await page.keyboard.type(name);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/stores\/store-[^/]+$/);
    storeId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    await heading().filter({ hasText: name }).waitFor();
  });

  await check("the new store reaches Ready on the list", async () => {
    needStore();
    await page.goto(`${base}/stores`);
    const row = page.locator(`tr[data-store="${name}"]`);
    await row.waitFor();
    await waitOrExplain(row.locator('[data-phase="Ready"]'), base, storeId, 60_000);
    assert((await row.textContent()).includes("Ready"), "the phase is not shown as text");
    await shot(page, "list-laptop", LAPTOP);
    await shot(page, "list-phone", PHONE);
    await page.setViewportSize(LAPTOP);
  });

  await check("its detail page shows conditions, URL and a filled timeline, newest first", async () => {
    needStore();
    await page.locator(`tr[data-store="${name}"]`).getByRole("link", { name }).click();
    await heading().filter({ hasText: name }).waitFor();
    await waitOrExplain(page.locator('tr[data-condition="Ready"]').getByText("True"), base, storeId, 30_000);
    const events = page.locator("ol.timeline > li");
    await events.nth(2).waitFor({ timeout: 30_000 });
    const times = await events.locator("time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime")));
    const ms = times.map((t) => Date.parse(t));
    assert(ms.every((t, i) => i === 0 || ms[i - 1] >= t), `events are not newest first: ${times.join(", ")}`);
    const title = await events.first().locator("time").getAttribute("title");
    assert(title && title.includes("Z)"), `no exact time on hover: ${title}`);
    // The page polls every 2 s, so allow it a few polls to catch up with the API.
    let shown = -1;
    let total = -2;
    for (let i = 0; i < 12 && shown !== total; i++) {
      if (i > 0) await sleep(500);
      total = (await api(base, `/api/v1/stores/${storeId}/events`)).body.count;
      shown = await events.count();
    }
    assert(shown === total, `timeline shows ${shown} of ${total} events`);
    const store = await api(base, `/api/v1/stores/${storeId}`);
    if (store.body.url) await page.getByRole("link", { name: store.body.url }).waitFor();
    await page.getByText(store.body.namespace, { exact: true }).first().waitFor();
    await shot(page, "detail-laptop", LAPTOP);
    await shot(page, "detail-phone", PHONE);
    await page.setViewportSize(LAPTOP);
  });

  await check("change its plan and see it converge again", async () => {
    needStore();
    const before = (await api(base, `/api/v1/stores/${storeId}`)).body;
    await page.getByLabel("Plan", { exact: true }).selectOption("medium");
    await page.getByRole("button", { name: "Change plan" }).click();
    await page.waitForFunction(
      async ([url, gen, bearer]) => {
        const r = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
        const s = await r.json();
        return s.plan === "medium" && s.generation === gen + 1 && s.observed_generation === s.generation && s.phase === "Ready";
      },
      [`${base}/api/v1/stores/${storeId}`, before.generation, token],
      { timeout: 60_000, polling: 500 },
    ).catch(async (exc) => {
      throw new Error(`${exc.message.split("\n")[0]} — ${await storeStatus(base, storeId)}`);
    });
    await waitOrExplain(heading().locator('[data-phase="Ready"]'), base, storeId, 10_000);
    await page.locator(".facts").getByText("medium", { exact: true }).waitFor();
    await page.locator(".facts").getByText(`(observed ${before.generation + 1})`).waitFor();
  });

  await consoleJourneys({ browser, base, token, dataDir: server?.dataDir, check, assert, api, shot, sleep, storeId: () => storeId, name, LAPTOP, PHONE });
  await actionsJourneys({ browser, base, token, dataDir: server?.dataDir, check, assert, api, shot, sleep, LAPTOP, PHONE });

  await check("a duplicate name is refused with the API's message verbatim", async () => {
    needStore();
    const refused = await api(base, "/api/v1/stores", {
      method: "POST",
      body: JSON.stringify({ name, engine: "medusa", plan: "small" }),
    });
    assert(refused.status === 409, `the API answered ${refused.status} to a duplicate name, not 409`);
    await page.goto(`${base}/new`);
    await page.getByLabel("Name").fill(name);
    await page.getByRole("button", { name: "Create store" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = await alert.textContent();
    assert(text.includes(refused.body.detail), `alert says ${JSON.stringify(text)}, API says ${JSON.stringify(refused.body.detail)}`);
    assert(new URL(page.url()).pathname === "/new", "navigated away after a refused create");
    await shot(page, "create-refused-phone", PHONE);
    await page.setViewportSize(LAPTOP);
  });

  await check("delete it (typing its name) and see Deleted", async () => {
    needStore();
    await page.goto(`${base}/stores/${encodeURIComponent(storeId)}`);
    await heading().filter({ hasText: name }).waitFor();
    await page.getByRole("button", { name: "Delete…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert((await dialog.textContent()).includes(name), "the dialog does not name the store");
    const confirm = dialog.getByRole("button", { name: "Delete store" });
    assert(await confirm.isDisabled(), "delete is possible before typing the name");
    await dialog.getByRole("textbox").fill(name);
    await confirm.click();
    await dialog.waitFor({ state: "detached" });
    await waitOrExplain(heading().locator('[data-phase="Deleted"]'), base, storeId, 60_000);
    assert(await page.getByRole("button", { name: "Delete…" }).isDisabled(), "delete still offered on a tombstone");
    await page.locator("ol.timeline > li").first().waitFor();
    await shot(page, "detail-deleted-laptop", LAPTOP);
    await page.goto(`${base}/stores?phase=Deleted`);
    await page.locator(`tr[data-store="${name}"] [data-phase="Deleted"]`).waitFor();
  });

  await docsJourneys({ browser, base, check, assert, shot, viewport: LAPTOP });
  await explainsJourneys({ browser, base, token, dataDir: server?.dataDir, check, assert, api, shot, viewport: LAPTOP, sleep });
  if (realDone) await realDone;

  await check("no uncaught errors in the page", async () => {
    // 4xx answers the journeys provoked on purpose show up as console errors; ignore those.
    const real = pageErrors.filter((e) => !/status of 4\d\d/.test(e));
    assert(real.length === 0, real.join("\n"));
  });
}

// ---------- main ----------

async function main() {
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const real = startRealServer();
  real.catch(() => {}); // its failure is reported by its own check
  let base = process.env.STOREPLANE_URL?.replace(/\/$/, "");
  if (!base) ({ base, started: server } = await startServer());
  if (process.env.STOREPLANE_URL && !(await isReady(base))) throw new Error(`${base}/readyz is not answering`);
  const tokenFile = join(server?.dataDir ?? join(repo, ".data"), "admin.token");
  token = process.env.STOREPLANE_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : null);
  if (!token) throw new Error(`no API token: set STOREPLANE_TOKEN (looked in ${tokenFile})`);
  log(`storeplane at ${base}`);
  realServer = await real.catch((exc) => {
    results.push({ name: "the real-Medusa dev starts", ok: false });
    log(`FAIL  the real-Medusa dev starts: ${exc instanceof Error ? exc.message.split("\n").slice(0, 6).join("\n      ") : exc}`);
    return null;
  });
  await journeys(base);
}

/** The real-Medusa dev and its one store, created as soon as the dev answers (null when the
 * runtime is missing, against STOREPLANE_URL, with E2E_NO_REAL, or when E2E_ONLY leaves the
 * real checks out). Resolves once the dev answers; the store's id is a promise of its own. */
async function startRealServer() {
  const why = process.env.STOREPLANE_URL
    ? "against STOREPLANE_URL"
    : process.env.E2E_NO_REAL
      ? "E2E_NO_REAL is set"
      : process.env.E2E_ONLY && !process.env.E2E_ONLY.includes("real")
        ? "E2E_ONLY does not ask for them (E2E_ONLY=\"real runtime\" does)"
        : missingRealRuntime();
  if (why) {
    log(`(the real-Medusa journeys are skipped: ${why})`);
    return null;
  }
  const { base, started } = await startServer({ real: true });
  const realToken = readFileSync(join(started.dataDir, "admin.token"), "utf8").trim();
  const createdAt = Date.now();
  const storeId = (async () => {
    const r = await fetch(`${base}/api/v1/stores`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${realToken}` },
      body: JSON.stringify({ name: `real-${Date.now().toString(36)}`, engine: "medusa", plan: "small" }),
    });
    const body = await r.json();
    if (r.status !== 202) throw new Error(`creating the real store answered ${r.status}: ${JSON.stringify(body)}`);
    return body.id;
  })();
  storeId.catch(() => {});
  log(`real-Medusa storeplane at ${base}`);
  return { base, token: realToken, storeId, createdAt };
}

async function cleanup() {
  await browser?.close().catch(() => {});
  browser = null;
  await Promise.all(servers.splice(0).map((one) => stopServer(one).catch((e) => log(`could not stop the server: ${e}`))));
}

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    log(`${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(async () => {
  log(`FAIL  the whole run took longer than ${OVERALL_TIMEOUT_MS / 60_000} minutes`);
  results.push({ name: "overall timeout", ok: false });
  await cleanup();
  summary();
}, OVERALL_TIMEOUT_MS);

function summary() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

try {
  await main();
} catch (exc) {
  results.push({ name: "setup", ok: false });
  log(`FAIL  setup: ${exc instanceof Error ? exc.message : exc}`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
summary();
