{{/*
Names and labels for every object of the chart. One store lives alone in its namespace,
so object names are fixed per component ("medusa-server", "medusa-postgres", ...) rather
than prefixed with the release name: storeplane's medusa engine module knows them (health
check, readiness) without reading the release name.
*/}}

{{/* Chart name, truncated to 63 characters (the DNS label limit of names and label values). */}}
{{- define "medusa-store.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "medusa-store.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of one component's objects: (list $ "server") -> "medusa-server".
*/}}
{{- define "medusa-store.componentName" -}}
{{- printf "medusa-%s" (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component: (list $ "server"). Never include anything that can
change over a store's life: a Deployment's selector is immutable.
*/}}
{{- define "medusa-store.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "medusa-store.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Labels that never change over a store's life: (list $ "server"). Used where Kubernetes
forbids updates, i.e. a StatefulSet's volumeClaimTemplates (a chart version bump must not
make the StatefulSet un-appliable).
managed-by is "storeplane", not .Release.Service: storeplane renders with `helm template`
and applies the objects itself; helm never installs a release.
storeplane.dev/store-id is how storeplane finds, prunes and verifies the removal of a
store's objects: every object must carry it.
*/}}
{{- define "medusa-store.stableLabels" -}}
{{ include "medusa-store.selectorLabels" . }}
{{- $ := index . 0 }}
app.kubernetes.io/managed-by: storeplane
app.kubernetes.io/part-of: storeplane
storeplane.dev/store-id: {{ $.Values.store.id | quote }}
{{- end }}

{{/*
Labels of every object and pod template: (list $ "server"): the stable ones plus the chart
version.
*/}}
{{- define "medusa-store.labels" -}}
{{ include "medusa-store.stableLabels" . }}
{{- $ := index . 0 }}
helm.sh/chart: {{ include "medusa-store.chart" $ }}
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
{{- end }}

{{/* Host the store is served at. */}}
{{- define "medusa-store.host" -}}
{{- printf "%s.%s" .Values.store.id .Values.baseDomain }}
{{- end }}

{{/* Public URL of the store, no trailing slash (a trailing slash breaks Medusa's CORS). */}}
{{- define "medusa-store.url" -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) (include "medusa-store.host" .) }}
{{- end }}

{{/* image: "repository:tag" for (.Values.image | .Values.database.image | ...). */}}
{{- define "medusa-store.image" -}}
{{- printf "%s:%s" .repository .tag }}
{{- end }}

{{/*
Resources of one container: (list $ "server"). A non-empty .Values.resources.<component>
wins; otherwise the preset of the store's plan.
*/}}
{{- define "medusa-store.resources" -}}
{{- $ := index . 0 }}
{{- $component := index . 1 }}
{{- $override := index ($.Values.resources | default dict) $component | default dict }}
{{- if $override }}
{{- toYaml $override }}
{{- else }}
{{- toYaml (index $.Values.planResources $.Values.store.plan $component) }}
{{- end }}
{{- end }}

{{/*
Container security context shared by every container: no privilege escalation, no Linux
capabilities. readOnlyRootFilesystem is set beside it per container, because it depends on
what each image writes (see README.md).
*/}}
{{- define "medusa-store.containerSecurity" -}}
allowPrivilegeEscalation: false
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Pod-level settings shared by every pod: the store's ServiceAccount with no API token
(store workloads never talk to the Kubernetes API), and no service-link env vars (a Service
named like an image's own variables, e.g. *_PORT, would otherwise leak into its env).
*/}}
{{- define "medusa-store.podCommon" -}}
serviceAccountName: {{ .Values.serviceAccountName }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- end }}

{{/*
Environment of the Medusa server and of its migration init container.
*/}}
{{- define "medusa-store.serverEnv" -}}
{{- $postgres := include "medusa-store.componentName" (list . "postgres") }}
{{- $redis := include "medusa-store.componentName" (list . "redis") }}
{{- $url := include "medusa-store.url" . }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentialsSecret }}
      key: db-password
# $(DB_PASSWORD) is expanded by the kubelet; storeplane generates URL-safe passwords.
- name: DATABASE_URL
  value: "postgres://medusa:$(DB_PASSWORD)@{{ $postgres }}:5432/medusa?sslmode=disable"
# Without REDIS_URL Medusa silently falls back to an in-memory fake: always set it.
- name: REDIS_URL
  value: "redis://{{ $redis }}:6379"
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentialsSecret }}
      key: jwt-secret
- name: COOKIE_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentialsSecret }}
      key: cookie-secret
- name: STORE_CORS
  value: {{ $url | quote }}
- name: ADMIN_CORS
  value: {{ $url | quote }}
- name: AUTH_CORS
  value: {{ $url | quote }}
- name: MEDUSA_BACKEND_URL
  value: {{ $url | quote }}
# One process serves HTTP and runs background jobs until the worker gets its own Deployment.
- name: MEDUSA_WORKER_MODE
  value: shared
- name: NODE_ENV
  value: production
- name: PORT
  value: "9000"
{{- end }}
