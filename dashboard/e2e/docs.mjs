// The API reference pages work offline: /docs (Swagger UI) and /redoc (ReDoc) render every
// operation in a browser context where every request that is not to storeplane itself fails,
// as on a machine without internet. Called by run.mjs with its helpers.

/** Runs the checks; `t` is { browser, base, check, assert, shot, viewport }. */
export async function docsJourneys({ browser, base, check, assert, shot, viewport }) {
  const spec = await (await fetch(`${base}/openapi.json`)).json();
  const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path, summary: ops[method].summary })),
  );

  async function offlinePage() {
    const context = await browser.newContext({ viewport });
    const offsite = [];
    const origin = new URL(base).origin;
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      offsite.push(url);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    return { context, page, offsite, errors };
  }

  await check("/docs (Swagger UI) renders every operation with no network", async () => {
    const { context, page, offsite, errors } = await offlinePage();
    try {
      const r = await page.goto(`${base}/docs`);
      assert(r?.ok(), `GET /docs answered ${r?.status()}`);
      await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
      const shown = await page
        .locator(".opblock")
        .evaluateAll((els) =>
          els.map((el) => `${el.querySelector(".opblock-summary-method")?.textContent} ${el.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`),
        );
      const missing = operations.filter((op) => !shown.includes(`${op.method} ${op.path}`));
      assert(missing.length === 0, `operations not shown: ${missing.map((o) => `${o.method} ${o.path}`).join(", ")}`);
      await page.getByText("Create a store").first().waitFor();
      assert(offsite.length === 0, `the page tried to reach: ${offsite.join(", ")}`);
      assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
      await shot(page, "docs-offline-laptop", viewport);
    } finally {
      await context.close();
    }
  });

  await check("/redoc (ReDoc) renders the operations with no network", async () => {
    const { context, page, offsite, errors } = await offlinePage();
    try {
      const r = await page.goto(`${base}/redoc`);
      assert(r?.ok(), `GET /redoc answered ${r?.status()}`);
      const sections = page.locator('[data-section-id^="operation/"]');
      await sections.first().waitFor({ timeout: 30_000 });
      const count = await sections.count();
      assert(count >= operations.length, `ReDoc shows ${count} operations of ${operations.length}`);
      await page.getByRole("heading", { name: "Create a store" }).first().waitFor();
      assert(offsite.length === 0, `the page tried to reach: ${offsite.join(", ")}`);
      assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
    } finally {
      await context.close();
    }
  });
}
