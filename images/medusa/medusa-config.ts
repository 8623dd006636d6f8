/**
 * Medusa configuration of a storeplane store. Everything comes from the environment the
 * medusa-store chart sets (charts/medusa-store/README.md lists it); nothing here is
 * store-specific, so one image serves every store.
 *
 * - MEDUSA_WORKER_MODE: "server" (HTTP API + admin), "worker" (subscribers, scheduled and
 *   background jobs) or "shared" (both; the default, for running it by hand).
 * - DISABLE_MEDUSA_ADMIN=true: no admin UI (the worker, the migration and seed Jobs).
 * - DATABASE_SSL: "false" (the store's own in-namespace PostgreSQL) or "true" (a managed
 *   database; DATABASE_SSL_REJECT_UNAUTHORIZED=false accepts a private CA).
 * - REDIS_URL: required in production. Without it Medusa silently falls back to an in-memory
 *   event bus, which would cut the worker off from the server's events.
 * - MEDUSA_BACKEND_URL: the store's public URL; uploaded files' URLs are <it>/static/<key>.
 */
import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

const production = process.env.NODE_ENV === "production"

function required(name: string): string | undefined {
  const value = process.env[name]
  if (!value && production) {
    throw new Error(`${name} is not set: the medusa-store chart sets it; see its README`)
  }
  return value
}

type WorkerMode = "shared" | "worker" | "server"
const workerModes: WorkerMode[] = ["shared", "worker", "server"]
const workerMode = (process.env.MEDUSA_WORKER_MODE || "shared") as WorkerMode
if (!workerModes.includes(workerMode)) {
  throw new Error(`MEDUSA_WORKER_MODE must be one of ${workerModes.join(", ")}, not ${workerMode}`)
}

const ssl =
  process.env.DATABASE_SSL === "true"
    ? { rejectUnauthorized: process.env.DATABASE_SSL_REJECT_UNAUTHORIZED !== "false" }
    : false

const redisUrl = required("REDIS_URL")

// Shared by the server and the worker through Redis: events (the worker runs the
// subscribers of events the server emits), long-running workflows, and locks.
const redisModules = redisUrl
  ? [
      {
        resolve: "@medusajs/medusa/event-bus-redis",
        options: { redisUrl },
      },
      {
        resolve: "@medusajs/medusa/workflow-engine-redis",
        options: { redis: { redisUrl } },
      },
      {
        resolve: "@medusajs/medusa/locking",
        options: {
          providers: [
            {
              resolve: "@medusajs/medusa/locking-redis",
              id: "locking-redis",
              is_default: true,
              options: { redisUrl },
            },
          ],
        },
      },
    ]
  : []

// Uploaded files: Medusa's local file provider, writing to "static" under the working
// directory (the image's /app, where the chart mounts the uploads claim) and answering with
// URLs under the store's public URL (MEDUSA_BACKEND_URL), where the server serves that folder
// at /static. Without backend_url it would answer http://localhost:9000/static/..., a URL no
// browser outside the pod can load.
const backendUrl = process.env.MEDUSA_BACKEND_URL
const fileModules = backendUrl
  ? [
      {
        resolve: "@medusajs/medusa/file",
        options: {
          providers: [
            {
              resolve: "@medusajs/medusa/file-local",
              id: "local",
              options: { upload_dir: "static", backend_url: `${backendUrl.replace(/\/+$/, "")}/static` },
            },
          ],
        },
      },
    ]
  : []

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: required("DATABASE_URL"),
    databaseDriverOptions: { ssl },
    redisUrl,
    workerMode,
    http: {
      // Comma-separated origins, no trailing slash (one breaks Medusa's CORS check).
      storeCors: process.env.STORE_CORS || "http://localhost:8000",
      adminCors: process.env.ADMIN_CORS || "http://localhost:9000",
      authCors: process.env.AUTH_CORS || "http://localhost:9000",
      jwtSecret: required("JWT_SECRET") || "supersecret",
      cookieSecret: required("COOKIE_SECRET") || "supersecret",
    },
  },
  admin: {
    disable: process.env.DISABLE_MEDUSA_ADMIN === "true",
    backendUrl: process.env.MEDUSA_BACKEND_URL,
  },
  modules: [...redisModules, ...fileModules],
})
