// Resource types, derived from the generated OpenAPI paths (src/api/generated/schema.d.ts).
// Deriving from paths rather than from component names keeps the dashboard independent of
// how the backend names its Pydantic models.
import type { paths } from "./generated/schema";

type Json<R> = R extends { content: { "application/json": infer T } } ? T : never;

export type Store = Json<paths["/api/v1/stores/{store_id}"]["get"]["responses"][200]>;
export type StoreList = Json<paths["/api/v1/stores"]["get"]["responses"][200]>;
export type StoreCreate = NonNullable<
  paths["/api/v1/stores"]["post"]["requestBody"]
>["content"]["application/json"];
export type StoreUpdate = NonNullable<
  paths["/api/v1/stores/{store_id}"]["patch"]["requestBody"]
>["content"]["application/json"];
export type StoreEvents = Json<paths["/api/v1/stores/{store_id}/events"]["get"]["responses"][200]>;
export type StoreEvent = StoreEvents["items"][number];
export type Condition = Store["conditions"][number];
export type Plan = Json<paths["/api/v1/plans"]["get"]["responses"][200]>["items"][number];
export type EngineInfo = Json<paths["/api/v1/engines"]["get"]["responses"][200]>["items"][number];
export type SmokeCheck = Json<paths["/api/v1/stores/{store_id}/checks/{check_id}"]["get"]["responses"][200]>;
export type SmokeChecks = Json<paths["/api/v1/stores/{store_id}/checks"]["get"]["responses"][200]>;
export type WorkloadRuntime = NonNullable<Store["workload_runtime"]>;
export type Phase = Store["phase"];
export type EngineName = StoreCreate["engine"];
export type PlanName = Store["plan"];

/** Every phase, in lifecycle order (used by the phase filter). */
export const PHASES = [
  "Pending",
  "Provisioning",
  "Ready",
  "Updating",
  "Failed",
  "Deleting",
  "Deleted",
] as const satisfies readonly Phase[];

export type Fleet = Json<paths["/api/v1/fleet"]["get"]["responses"][200]>;
export type StoreObjects = Json<paths["/api/v1/stores/{store_id}/objects"]["get"]["responses"][200]>;
export type StoreObject = StoreObjects["items"][number];
export type StoreObjectYaml = Json<paths["/api/v1/stores/{store_id}/objects/{kind}/{name}"]["get"]["responses"][200]>;
export type StoreLog = Json<paths["/api/v1/stores/{store_id}/logs"]["get"]["responses"][200]>;
export type Users = Json<paths["/api/v1/users"]["get"]["responses"][200]>;
export type User = Users["items"][number];
export type Tokens = Json<paths["/api/v1/tokens"]["get"]["responses"][200]>;
export type ApiTokenRecord = Tokens["items"][number];
export type TokenIssued = Json<paths["/api/v1/tokens"]["post"]["responses"][201]>;
export type Rollouts = Json<paths["/api/v1/rollouts"]["get"]["responses"][200]>;
export type Rollout = Rollouts["items"][number];
export type RolloutCreate = NonNullable<paths["/api/v1/rollouts"]["post"]["requestBody"]>["content"]["application/json"];
