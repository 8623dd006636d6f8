// The typed HTTP client for storeplane's REST API, built with openapi-fetch on the
// generated types. Query and mutation functions (queries.ts) call `request()`, which returns
// the response body or throws an ApiError carrying the server's problem+json verbatim.
import createClient from "openapi-fetch";
import { getToken, signOut } from "./auth";
import type { paths } from "./generated/schema";

/** One field-level complaint from a 422 problem response. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * An API refusal or a transport failure. `message` is what a person should read: the
 * problem's `detail` when the server sent one (shown verbatim), else its title/status.
 * `status` is 0 when the server could not be reached at all.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly fieldErrors: FieldError[];

  constructor(status: number, title: string, detail: string, fieldErrors: FieldError[] = []) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.fieldErrors = fieldErrors;
  }
}

export const api = createClient<paths>({
  // An absolute origin: Request() in tests (jsdom on Node) rejects relative URLs.
  baseUrl: globalThis.location?.origin ?? "http://localhost",
  // Late-bound so tests can stub globalThis.fetch after this module is imported. Every
  // request carries the session's token (see auth.ts).
  fetch: (input: Request) => {
    const token = getToken();
    if (token) input.headers.set("Authorization", `Bearer ${token}`);
    return globalThis.fetch(input);
  },
});

function asFieldErrors(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((e: unknown) => {
    if (e && typeof e === "object" && "message" in e) {
      const { field, message } = e as { field?: unknown; message?: unknown };
      return [{ field: typeof field === "string" ? field : "", message: String(message) }];
    }
    return [];
  });
}

/** Turns an error body (problem+json, other JSON, or text) into an ApiError. */
export function toApiError(response: Response, body: unknown): ApiError {
  const status = response.status;
  if (body && typeof body === "object") {
    const p = body as { title?: unknown; detail?: unknown; errors?: unknown };
    const title = typeof p.title === "string" ? p.title : response.statusText || "Error";
    const fieldErrors = asFieldErrors(p.errors);
    let detail = typeof p.detail === "string" && p.detail !== "" ? p.detail : "";
    if (!detail && fieldErrors.length > 0) {
      detail = fieldErrors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ");
    }
    return new ApiError(status, title, detail || `${title} (HTTP ${status})`, fieldErrors);
  }
  const text = typeof body === "string" ? body.trim() : "";
  const title = response.statusText || "Error";
  return new ApiError(status, title, text && text.length < 300 ? text : `${title} (HTTP ${status})`);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * Awaits an openapi-fetch call and returns its data, or throws ApiError. Callers get a
 * rejected promise for every non-2xx answer and for network failures (status 0).
 */
export async function request<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (exc) {
    if (exc instanceof DOMException && exc.name === "AbortError") throw exc;
    const why = exc instanceof Error ? exc.message : String(exc);
    throw new ApiError(0, "Network error", `Could not reach storeplane: ${why}`);
  }
  if (!result.response.ok || result.error !== undefined) {
    const error = toApiError(result.response, result.error);
    // The token was revoked or is unknown: back to the login screen, saying why.
    if (error.status === 401) signOut(error.message);
    throw error;
  }
  return result.data as T;
}
