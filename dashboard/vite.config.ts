/// <reference types="vitest/config" />
// Vite build for the storeplane dashboard. `npm run dev` proxies the API to a running
// `storeplane dev` (STOREPLANE_URL, default http://127.0.0.1:8080, the port `storeplane dev` uses) so the UI and the API
// share an origin exactly as they do when storeplane serves dashboard/dist itself.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const target = process.env.STOREPLANE_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", sourcemap: true },
  server: {
    proxy: {
      "/api": target,
      "/openapi.json": target,
      "/readyz": target,
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
