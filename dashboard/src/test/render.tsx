// Renders a piece of the dashboard with a fresh QueryClient and the fake API as fetch.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import { createFakeApi, type FakeApi } from "./fakeApi";
import type { Store } from "../api/types";

export function setup(ui: ReactElement, { stores = [] as Store[], api }: { stores?: Store[]; api?: FakeApi } = {}) {
  const fake = api ?? createFakeApi(stores);
  vi.stubGlobal("fetch", vi.fn(fake.fetch));
  const client = new QueryClient({
    defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false }, mutations: { retry: false } },
  });
  const utils = render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
  return { ...utils, api: fake, client };
}
