{{/*
Names and labels of the platform chart. Unlike the store charts, this one is installed with
`helm install` (by a person or a GitOps tool), so names follow the release.
*/}}

{{/* Chart name, truncated to 63 characters. */}}
{{- define "platform.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-platform", or the release name alone when it already contains "platform". */}}
{{- define "platform.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: never anything that changes over the release's life. */}}
{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "platform.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. part-of is "storeplane" like every store object, but never the
storeplane.dev/store-id label: that one marks a store's objects for pruning and residue checks.
*/}}
{{- define "platform.labels" -}}
{{ include "platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: storeplane
app.kubernetes.io/component: control-plane
helm.sh/chart: {{ include "platform.chart" . }}
{{- end }}

{{/* SQLite keeps one writer on a ReadWriteOnce volume. */}}
{{- define "platform.sqlite" -}}
{{- if eq .Values.database.type "sqlite" }}true{{ end }}
{{- end }}
