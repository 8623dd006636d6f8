// Retakes the README's dashboard screenshots (docs/images/dashboard-list.png and
// dashboard-detail.png) with headless Debian Chromium against a running storeplane, signed in
// (so the header shows "Sign out"), at a laptop viewport.
//
//   STOREPLANE_URL=http://127.0.0.1:18080 STOREPLANE_TOKEN=sp_... node scripts/readme-screenshots.mjs STORE_NAME
//
// STOREPLANE_URL defaults to <repo>/.data/api.url and the token to <repo>/.data/admin.token
// (what `scripts/dev.sh` writes); STORE_NAME is the store whose page is taken (default my-shop).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (file) => (existsSync(file) ? readFileSync(file, "utf8").trim() : undefined);
const base = (process.env.STOREPLANE_URL ?? read(join(repo, ".data", "api.url")) ?? "").replace(/\/$/, "");
const token = process.env.STOREPLANE_TOKEN ?? read(join(repo, ".data", "admin.token"));
const storeName = process.argv[2] ?? "my-shop";
if (!base || !token) throw new Error("set STOREPLANE_URL and STOREPLANE_TOKEN (or run scripts/dev.sh here first)");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  headless: true,
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await page.getByRole("button", { name: "Sign out" }).or(page.getByRole("link", { name: "Sign out" })).first().waitFor();
  await page.goto(`${base}/stores`); // "/" is the fleet overview
  await page.locator("tr[data-store]").first().waitFor();
  await page.screenshot({ path: join(repo, "docs", "images", "dashboard-list.png") });
  await page.locator(`tr[data-store="${storeName}"]`).getByRole("link", { name: storeName }).click();
  await page.locator("ol.timeline > li").nth(2).waitFor();
  await page.screenshot({ path: join(repo, "docs", "images", "dashboard-detail.png"), fullPage: true });
  console.log("wrote docs/images/dashboard-list.png and docs/images/dashboard-detail.png");
} finally {
  await browser.close();
}
