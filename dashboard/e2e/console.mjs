// The operator's console in Chromium against the real `storeplane dev` (issue 18): the fleet
// overview's counts against the API, a Ready store's resource tree (quota, network policies,
// Deployments and their pods, with health), a Secret's YAML without its values, drift shown
// once the reconciler restored a policy deleted by hand, a pod's logs panel, suspend/resume,
// the accounts pages (member, token shown once, revoked), and an idle page's requests per
// minute with the event stream and with it blocked (polling).
// Called by run.mjs with its helpers once the store it made is Ready.
import { cluster } from "./explains.mjs";

export async function consoleJourneys({ browser, base, token, dataDir, check, assert, api, shot, sleep, storeId, LAPTOP, PHONE }) {
  const context = await browser.newContext({ viewport: LAPTOP });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
  const id = () => {
    assert(storeId(), "not run: the store was not created");
    return storeId();
  };
  const log = (msg) => console.log(`e2e: ${msg}`);

  await check("the fleet overview's counts match the API (by phase, engine, plan; total = the list's count)", async () => {
    await page.goto(`${base}/`);
    await page.locator("[data-fleet-total]").waitFor();
    let fleet;
    let mismatch = "";
    // The page refreshes on events; let it catch up with what the API says now.
    for (let i = 0; i < 10; i++) {
      fleet = (await api(base, "/api/v1/fleet")).body;
      mismatch = "";
      for (const [dimension, counts] of [["phase", fleet.by_phase], ["engine", fleet.by_engine], ["plan", fleet.by_plan]]) {
        for (const [key, n] of Object.entries(counts)) {
          const shown = await page.locator(`[data-count="${dimension}:${key}"] .count-n`).textContent().catch(() => null);
          if (shown !== String(n)) mismatch += ` ${dimension}:${key} shows ${shown}, API ${n};`;
        }
      }
      const total = await page.locator("[data-fleet-total]").getAttribute("data-fleet-total");
      if (total !== String(fleet.total)) mismatch += ` total shows ${total}, API ${fleet.total};`;
      if (!mismatch) break;
      await sleep(500);
    }
    assert(!mismatch, mismatch);
    const listed = (await api(base, "/api/v1/stores")).body.count;
    assert(listed === fleet.total, `the list counts ${listed}, the fleet ${fleet.total}`);
    assert(fleet.durations.sample >= 1, "no provisioning duration although a store became Ready");
    await page.locator('[data-percentile="p50"] dd').filter({ hasText: /s|min/ }).waitFor();
    await shot(page, "fleet-laptop", LAPTOP);
    await shot(page, "fleet-phone", PHONE);
    await page.setViewportSize(LAPTOP);
  });

  await check("the store's resource tree lists its quota, network policies, Deployments and their pods, all Healthy", async () => {
    await page.goto(`${base}/stores/${encodeURIComponent(id())}`);
    await page.locator('[data-object^="ResourceQuota/"][data-health="Healthy"]').waitFor();
    const objects = (await api(base, `/api/v1/stores/${id()}/objects`)).body.items;
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    assert(policies.length >= 3, `only ${policies.length} network policies`);
    for (const p of policies) await page.locator(`[data-object="NetworkPolicy/${p.name}"][data-health="Healthy"]`).waitFor();
    const deployments = objects.filter((o) => o.kind === "Deployment");
    assert(deployments.length >= 1, "no Deployment");
    for (const d of deployments) {
      const node = page.locator(`[data-object="Deployment/${d.name}"]`);
      await node.locator(':scope > .tree-row [data-health="Healthy"]').waitFor();
      const pods = node.locator('[data-object^="Pod/"]');
      assert((await pods.count()) >= 1, `Deployment ${d.name} shows no pod`);
      const health = await pods.first().getAttribute("data-health");
      assert(health === "Healthy", `pod of ${d.name} is ${health}`);
    }
    await page.locator('[data-object^="ServiceAccount/"]').first().waitFor();
    await page.locator(".resources").scrollIntoViewIfNeeded();
    await shot(page, "tree-laptop", LAPTOP);
    await shot(page, "tree-phone", PHONE);
    await page.setViewportSize(LAPTOP);
  });

  await check("a Secret's YAML view shows its keys and never its values", async () => {
    const objects = (await api(base, `/api/v1/stores/${id()}/objects`)).body.items;
    const secret = objects.find((o) => o.kind === "Secret");
    assert(secret, "the store has no Secret");
    await page.locator(`[data-object="Secret/${secret.name}"]`).getByRole("button", { name: secret.name }).click();
    const pre = page.locator(`pre[data-yaml="Secret/${secret.name}"]`);
    await pre.waitFor();
    const text = await pre.textContent();
    assert(/\(hidden\)/.test(text), `no (hidden) in ${text.slice(0, 300)}`);
    if (dataDir) {
      const store = (await api(base, `/api/v1/stores/${id()}`)).body;
      const live = await cluster(dataDir)("GET", `/api/v1/namespaces/${store.namespace}/secrets/${secret.name}`);
      const html = await page.content();
      for (const [key, value] of Object.entries(live.data ?? {})) {
        assert(!html.includes(value), `the value of ${key} is in the page`);
        assert(!html.includes(Buffer.from(value, "base64").toString()), `the decoded value of ${key} is in the page`);
      }
    }
    await pre.scrollIntoViewIfNeeded();
    await shot(page, "yaml-secret-laptop", LAPTOP);
  });

  await check("a network policy deleted by hand is restored and its row says drift corrected", async () => {
    if (!dataDir) return log("(needs the server's data dir; skipped against STOREPLANE_URL)");
    const store = (await api(base, `/api/v1/stores/${id()}`)).body;
    await cluster(dataDir)("DELETE", `/apis/networking.k8s.io/v1/namespaces/${store.namespace}/networkpolicies/default-deny`);
    await page.locator('[data-object="NetworkPolicy/default-deny"] .drift').waitFor({ timeout: 60_000 });
    await page.locator('[data-object="NetworkPolicy/default-deny"][data-health="Healthy"]').waitFor({ timeout: 30_000 });
  });

  await check("a pod's logs panel shows the logs API's answer for the chosen pod and container", async () => {
    const objects = (await api(base, `/api/v1/stores/${id()}/objects`)).body.items;
    const pod = objects.find((o) => o.kind === "Pod" && o.parent?.startsWith("Deployment/"));
    assert(pod, "no pod");
    await page.locator(`[data-object="Pod/${pod.name}"]`).getByRole("button", { name: "Logs" }).click();
    const container = pod.containers.at(-1);
    const pre = page.locator(`pre[data-log="${pod.name}/${container}"]`);
    await pre.waitFor();
    const answer = (await api(base, `/api/v1/stores/${id()}/logs?pod=${pod.name}&container=${container}&tail=500`)).body;
    const shown = await pre.textContent();
    assert(answer.text ? shown.includes(answer.text.trim().split("\n")[0]) : /no output/.test(shown), `panel shows ${shown.slice(0, 200)}; API ${JSON.stringify(answer).slice(0, 200)}`);
    await page.getByLabel("Follow").check();
  });

  await check("suspend and resume from the store page (the phase follows)", async () => {
    const heading = page.getByRole("heading", { level: 1 });
    await page.getByRole("button", { name: "Suspend" }).click();
    await heading.locator('[data-phase="Suspended"]').waitFor({ timeout: 60_000 });
    await shot(page, "detail-suspended-laptop", LAPTOP);
    await page.getByRole("button", { name: "Resume" }).click();
    await heading.locator('[data-phase="Ready"]').waitFor({ timeout: 90_000 });
  });

  let member = null;
  let issued = null;
  await check("an admin creates a member and issues its token, shown once, from the accounts page", async () => {
    member = `member-${Date.now().toString(36)}`;
    await page.getByRole("link", { name: "Accounts" }).click();
    await page.getByRole("heading", { level: 1, name: "Accounts" }).waitFor();
    await page.getByLabel("User name").fill(member);
    await page.getByLabel("Store limit").first().fill("2");
    await page.getByRole("button", { name: "Create member" }).click();
    const row = page.locator(`[data-user="${member}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: "Tokens and limit" }).click();
    await row.getByLabel("Token label").fill("e2e");
    await row.getByRole("button", { name: "Issue token" }).click();
    issued = (await page.locator("[data-token-value]").textContent()).trim();
    assert(issued.startsWith("sp_"), `token shown: ${issued}`);
    await shot(page, "accounts-token-shown-laptop", LAPTOP);
    // The screenshots for the docs show the clean state: the token put away (never a secret,
    // not even a throwaway one revoked later), the member with its one active token by id.
    await page.getByRole("button", { name: "I have copied it" }).click();
    await page.locator("[data-token-value]").waitFor({ state: "detached" });
    assert(!(await page.content()).includes(issued), "the token is still in the page after I have copied it");
    await shot(page, "accounts-laptop", LAPTOP);
    await shot(page, "accounts-phone", PHONE);
    await page.setViewportSize(LAPTOP);
    const users = (await api(base, "/api/v1/users")).body.items;
    const record = users.find((u) => u.name === member);
    assert(record && record.role === "member" && record.store_limit === 2 && record.active_tokens === 1, JSON.stringify(record));
    const asMember = await fetch(`${base}/api/v1/stores`, { headers: { authorization: `Bearer ${issued}` } });
    assert(asMember.status === 200, `the new token answered ${asMember.status}`);
    const accounts = await fetch(`${base}/api/v1/users`, { headers: { authorization: `Bearer ${issued}` } });
    assert(accounts.status === 404, `a member's /users answered ${accounts.status}`);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Accounts" }).waitFor();
    assert(!(await page.content()).includes(issued), "the token is shown again after a reload");
  });

  await check("the member's console has no accounts page; the admin revokes its token and it stops working", async () => {
    assert(issued, "not run: no token");
    const other = await browser.newContext({ viewport: LAPTOP });
    try {
      const tab = await other.newPage();
      await tab.goto(`${base}/#token=${encodeURIComponent(issued)}`);
      await tab.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
      await tab.locator("[data-fleet-total]").waitFor();
      assert((await tab.locator("[data-fleet-total]").getAttribute("data-fleet-total")) === "0", "a new member sees stores in its fleet");
      assert((await tab.getByRole("link", { name: "Accounts" }).count()) === 0, "a member is offered the accounts page");
    } finally {
      await other.close();
    }
    const row = page.locator(`[data-user="${member}"]`);
    await row.getByRole("button", { name: "Tokens and limit" }).click();
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.locator('[data-active="false"]').waitFor();
    const refused = await fetch(`${base}/api/v1/stores`, { headers: { authorization: `Bearer ${issued}` } });
    assert(refused.status === 401, `a revoked token answered ${refused.status}`);
  });

  await check("an idle store page: requests per minute with the event stream, and polling with it blocked", async () => {
    const seconds = process.env.E2E_MEASURE ? 60 : 8;
    async function idle(blockStream) {
      const ctx = await browser.newContext({ viewport: LAPTOP });
      try {
        const tab = await ctx.newPage();
        if (blockStream) await tab.route("**/api/v1/stream", (route) => route.abort());
        await tab.goto(`${base}/#token=${encodeURIComponent(token)}`);
        await tab.goto(`${base}/stores/${encodeURIComponent(id())}`);
        await tab.locator('[data-object^="ResourceQuota/"]').waitFor();
        if (!blockStream) await tab.locator('[data-live="live"]').waitFor();
        await sleep(3000); // let the first loads settle
        let count = 0;
        tab.on("request", (r) => {
          if (new URL(r.url()).pathname.startsWith("/api/")) count += 1;
        });
        await sleep(seconds * 1000);
        return Math.round((count * 60) / seconds);
      } finally {
        await ctx.close();
      }
    }
    const streaming = await idle(false);
    const polling = await idle(true);
    log(`      idle store page over ${seconds} s: ${polling} requests/min polling (stream blocked), ${streaming} requests/min with the event stream`);
    assert(streaming * 3 < polling, `the stream saves too little: ${streaming} vs ${polling} per minute`);
  });

  await context.close();
}
