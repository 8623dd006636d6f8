// The create-store form (route "/new"). Checks the name as the API does before sending,
// and shows the API's own message verbatim when it refuses (409 name taken, 422 invalid).
import { useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { enginesQuery, plansQuery, useCreateStore } from "../api/queries";
import type { EngineName, PlanName } from "../api/types";
import { PlanQuota } from "../components/PlanQuota";
import { useTitle } from "../components/useTitle";
import { ErrorState, Loading } from "../components/States";
import { Link, navigate, storePath } from "../router";
import { STORE_NAME_MAX, validateStoreName } from "../validation";

export function CreateStore() {
  const plans = useQuery(plansQuery());
  const engines = useQuery(enginesQuery());
  const create = useCreateStore();
  useTitle("New store");
  const [name, setName] = useState("");
  const [engine, setEngine] = useState<EngineName | "">("");
  const [plan, setPlan] = useState<PlanName | "">("");
  const [touched, setTouched] = useState(false);
  const id = useId();

  const nameProblem = validateStoreName(name);
  const showNameProblem = touched && nameProblem !== null;
  const fieldErrors = create.error?.fieldErrors ?? [];
  const serverFieldError = (field: string) =>
    fieldErrors.find((e) => e.field === field || e.field.endsWith(`.${field}`))?.message;

  // Defaults once the choices arrive: the first engine, and the "small" plan (or the first).
  const chosenEngine = engine || engines.data?.[0]?.name || "";
  const chosenPlan = plan || plans.data?.find((p) => p.name === "small")?.name || plans.data?.[0]?.name || "";

  function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (nameProblem !== null) {
      document.getElementById(`${id}-name`)?.focus();
      return;
    }
    if (!chosenEngine || !chosenPlan) return;
    create.mutate(
      { name, engine: chosenEngine as EngineName, plan: chosenPlan as PlanName },
      { onSuccess: (store) => navigate(storePath(store.id)) },
    );
  }

  if (plans.isPending || engines.isPending) return <Loading label="Loading engines and plans…" />;
  if (plans.isError || engines.isError) {
    return (
      <ErrorState
        title="Could not load the engines and plans needed to create a store"
        error={plans.error ?? engines.error}
        onRetry={() => {
          void plans.refetch();
          void engines.refetch();
        }}
      />
    );
  }

  // The API's message about the name goes beside the field, unless the alert below already
  // says exactly that (a 409 names the field and repeats the detail).
  const serverNameError = serverFieldError("name");
  const nameInvalid = showNameProblem || serverNameError !== undefined;
  const nameError = showNameProblem
    ? nameProblem
    : serverNameError !== create.error?.message
      ? serverNameError
      : undefined;
  return (
    <section aria-labelledby={`${id}-heading`} className="narrow">
      <p className="crumbs">
        <Link to="/stores">← Stores</Link>
      </p>
      <h1 id={`${id}-heading`}>New store</h1>
      <form className="create-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            name="name"
            value={name}
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="none"
            maxLength={STORE_NAME_MAX + 20}
            aria-invalid={nameInvalid ? true : undefined}
            aria-describedby={`${id}-name-hint${nameError ? ` ${id}-name-error` : ""}`}
            onChange={(e) => {
              setName(e.target.value);
              if (create.isError) create.reset();
            }}
            onBlur={() => name !== "" && setTouched(true)}
          />
          <p id={`${id}-name-hint`} className="hint">
            3–40 lower-case letters, digits and hyphens; starts with a letter. It becomes part of the store's address.
          </p>
          {nameError && (
            <p id={`${id}-name-error`} className="field-error">
              {nameError}
            </p>
          )}
        </div>

        <fieldset className="choices">
          <legend>Engine</legend>
          {engines.data.map((e) => (
            <label key={e.name} className="choice">
              <input
                type="radio"
                name="engine"
                value={e.name}
                checked={chosenEngine === e.name}
                onChange={() => setEngine(e.name as EngineName)}
              />
              <span className="choice-title">{e.display_name}</span>
            </label>
          ))}
        </fieldset>

        <fieldset className="choices plans">
          <legend>Plan</legend>
          {plans.data.map((p) => (
            <label key={p.name} className="choice">
              <input
                type="radio"
                name="plan"
                value={p.name}
                checked={chosenPlan === p.name}
                onChange={() => setPlan(p.name as PlanName)}
              />
              <span className="choice-title">{p.name}</span>
              {p.description && <span className="choice-desc">{p.description}</span>}
              <PlanQuota plan={p} />
            </label>
          ))}
        </fieldset>

        {create.isError && (
          <div className="problem" role="alert">
            <p className="problem-title">The store was not created.</p>
            <p className="problem-detail">{create.error.message}</p>
          </div>
        )}

        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create store"}
          </button>
          <Link to="/stores" className="btn btn-quiet">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
