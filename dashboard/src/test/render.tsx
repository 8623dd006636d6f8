// Renders a piece of the dashboard with a fresh QueryClient and the fake API as fetch.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import { createFakeApi, TEST_TOKEN, type FakeApi } from "./fakeApi";
import { signIn } from "../api/auth";
import type { Store } from "../api/types";

/** Renders with the fake API, signed in with its token unless `signedIn` is false. */
export function setup(
  ui: ReactElement,
  { stores = [] as Store[], api, signedIn = true }: { stores?: Store[]; api?: FakeApi; signedIn?: boolean } = {},
) {
  const fake = api ?? createFakeApi(stores);
  if (signedIn) signIn(TEST_TOKEN);
  vi.stubGlobal("fetch", vi.fn(fake.fetch));
  const client = new QueryClient({
    defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false }, mutations: { retry: false } },
  });
  const utils = render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
  return { ...utils, api: fake, client };
}
