{{/*
Names and labels for every object of the chart. One store lives alone in its namespace,
so object names are fixed per component ("woocommerce-wordpress", "woocommerce-mariadb", ...) rather
than prefixed with the release name: storeplane's woocommerce engine module knows them (health
check, readiness) without reading the release name.
*/}}

{{/* Chart name, truncated to 63 characters (the DNS label limit of names and label values). */}}
{{- define "woocommerce-store.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "woocommerce-store.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of one component's objects: (list $ "wordpress") -> "woocommerce-wordpress".
*/}}
{{- define "woocommerce-store.componentName" -}}
{{- printf "woocommerce-%s" (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component: (list $ "wordpress"). Never include anything that can
change over a store's life: a Deployment's selector is immutable.
*/}}
{{- define "woocommerce-store.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "woocommerce-store.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Labels that never change over a store's life: (list $ "wordpress"). Used where Kubernetes
forbids updates, i.e. a StatefulSet's volumeClaimTemplates (a chart version bump must not
make the StatefulSet un-appliable).
managed-by is "storeplane", not .Release.Service: storeplane renders with `helm template`
and applies the objects itself; helm never installs a release.
storeplane.dev/store-id is how storeplane finds, prunes and verifies the removal of a
store's objects: every object must carry it.
*/}}
{{- define "woocommerce-store.stableLabels" -}}
{{ include "woocommerce-store.selectorLabels" . }}
{{- $ := index . 0 }}
app.kubernetes.io/managed-by: storeplane
app.kubernetes.io/part-of: storeplane
storeplane.dev/store-id: {{ $.Values.store.id | quote }}
{{- end }}

{{/*
Labels of every object and pod template: (list $ "wordpress"): the stable ones plus the chart
version.
*/}}
{{- define "woocommerce-store.labels" -}}
{{ include "woocommerce-store.stableLabels" . }}
{{- $ := index . 0 }}
helm.sh/chart: {{ include "woocommerce-store.chart" $ }}
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
{{- end }}

{{/* Host the store is served at. */}}
{{- define "woocommerce-store.host" -}}
{{- printf "%s.%s" .Values.store.id .Values.baseDomain }}
{{- end }}

{{/* Public URL of the store, no trailing slash (WordPress stores it as home and siteurl). */}}
{{- define "woocommerce-store.url" -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) (include "woocommerce-store.host" .) }}
{{- end }}

{{/* image: "repository:tag" for (.Values.image | .Values.database.image | ...). */}}
{{- define "woocommerce-store.image" -}}
{{- printf "%s:%s" .repository .tag }}
{{- end }}

{{/*
Resources of one container: (list $ "wordpress"). A non-empty .Values.resources.<component>
wins; otherwise the preset of the store's plan.
*/}}
{{- define "woocommerce-store.resources" -}}
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
{{- define "woocommerce-store.containerSecurity" -}}
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
{{- define "woocommerce-store.podCommon" -}}
serviceAccountName: {{ .Values.serviceAccountName }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- end }}
