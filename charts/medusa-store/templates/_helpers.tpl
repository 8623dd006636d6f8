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
{{- $port := ternary (printf ":%v" .Values.publicPort) "" (not (empty .Values.publicPort)) }}
{{- printf "%s://%s%s" (ternary "https" "http" .Values.ingress.tls.enabled) (include "medusa-store.host" .) $port }}
{{- end }}

{{/*
Allowed origins of Medusa's STORE/ADMIN/AUTH CORS: the store's URL, then each custom domain
with the same scheme and port, comma-separated (no trailing slashes: they break Medusa's CORS).
*/}}
{{- define "medusa-store.origins" -}}
{{- $port := ternary (printf ":%v" .Values.publicPort) "" (not (empty .Values.publicPort)) }}
{{- $scheme := ternary "https" "http" .Values.ingress.tls.enabled }}
{{- $origins := list (include "medusa-store.url" .) }}
{{- range .Values.domains }}
{{- $origins = append $origins (printf "%s://%s%s" $scheme .host $port) }}
{{- end }}
{{- join "," $origins }}
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
Environment of every Medusa process: (list $ "server" | "worker" | "jobs"). The mode picks
MEDUSA_WORKER_MODE (the image's medusa-config.ts reads it); the worker and the jobs run
without the admin UI.
*/}}
{{- define "medusa-store.appEnv" -}}
{{- $ := index . 0 }}
{{- $mode := index . 1 }}
{{- $postgres := include "medusa-store.componentName" (list $ "postgres") }}
{{- $redis := include "medusa-store.componentName" (list $ "redis") }}
{{- $url := include "medusa-store.url" $ -}}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.credentialsSecret }}
      key: db-password
# $(DB_PASSWORD) is expanded by the kubelet; storeplane generates URL-safe passwords.
- name: DATABASE_URL
  value: "postgres://medusa:$(DB_PASSWORD)@{{ $postgres }}:5432/medusa"
# In-namespace PostgreSQL without TLS: the image's medusa-config.ts passes ssl: false to the driver.
- name: DATABASE_SSL
  value: "false"
# Without REDIS_URL Medusa silently falls back to an in-memory fake: always set it.
- name: REDIS_URL
  value: "redis://{{ $redis }}:6379"
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.credentialsSecret }}
      key: jwt-secret
- name: COOKIE_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.credentialsSecret }}
      key: cookie-secret
- name: STORE_CORS
  value: {{ include "medusa-store.origins" $ | quote }}
- name: ADMIN_CORS
  value: {{ include "medusa-store.origins" $ | quote }}
- name: AUTH_CORS
  value: {{ include "medusa-store.origins" $ | quote }}
- name: MEDUSA_BACKEND_URL
  value: {{ $url | quote }}
- name: MEDUSA_WORKER_MODE
  value: {{ ternary "server" "worker" (eq $mode "server") | quote }}
- name: DISABLE_MEDUSA_ADMIN
  value: {{ ternary "false" "true" (eq $mode "server") | quote }}
- name: MEDUSA_DISABLE_TELEMETRY
  value: "true"
- name: NODE_ENV
  value: production
- name: PORT
  value: "9000"
# npm, the CLI and telemetry write under HOME: keep it on the writable /tmp.
- name: HOME
  value: /tmp
{{- end }}

{{/*
Pod securityContext of the Medusa pods: the image recipe (images/medusa, node:20-alpine)
runs as the "node" user, uid/gid 1000.
*/}}
{{- define "medusa-store.medusaPodSecurity" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* securityContext of a Medusa container. */}}
{{- define "medusa-store.medusaSecurity" -}}
{{ include "medusa-store.containerSecurity" . }}
readOnlyRootFilesystem: {{ .Values.readOnlyRootFilesystem }}
{{- end }}

{{/*
The writable places of a Medusa container (mounts), and their volumes. Medusa's local file
provider writes uploads to "static" under the process's working directory and the server
serves that folder at /static: the image starts in /app (its .medusa/server), so
/app/static. The migration and seed Jobs upload nothing: their /app/static is an emptyDir.
*/}}
{{- define "medusa-store.medusaMounts" -}}
- name: tmp
  mountPath: /tmp
- name: uploads
  mountPath: /app/static
{{- end }}
{{- define "medusa-store.medusaVolumes" -}}
- name: tmp
  emptyDir: {}
- name: uploads
  emptyDir: {}
{{- end }}

{{/* Name of the uploads PersistentVolumeClaim (storeplane's backup Jobs mount it too). */}}
{{- define "medusa-store.uploadsClaim" -}}
{{- include "medusa-store.componentName" (list . "uploads") }}
{{- end }}

{{/* Size of the uploads claim: one size for every plan (a plan change must not resize it). */}}
{{- define "medusa-store.uploadsStorage" -}}
{{- .Values.uploads.storage }}
{{- end }}

{{/* Volumes of the server and worker: /tmp, and the uploads claim at /app/static. */}}
{{- define "medusa-store.appVolumes" -}}
- name: tmp
  emptyDir: {}
- name: uploads
  persistentVolumeClaim:
    claimName: {{ include "medusa-store.uploadsClaim" . }}
{{- end }}

{{/*
Label of every pod that mounts the uploads claim (server, worker, storeplane's backup and
restore Jobs), and the affinity that keeps them on one node: the claim is ReadWriteOnce, which
a cluster lets only pods of one node mount. The first such pod goes anywhere (it matches its
own term), the others follow it.
*/}}
{{- define "medusa-store.uploadsLabel" -}}
storeplane.dev/uploads: {{ include "medusa-store.uploadsClaim" . }}
{{- end }}
{{- define "medusa-store.uploadsAffinity" -}}
podAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - labelSelector:
        matchLabels:
          {{- include "medusa-store.uploadsLabel" . | nindent 10 }}
      topologyKey: kubernetes.io/hostname
{{- end }}

{{/*
The psql helpers (wait for the database, wait for a migration, record a migration) run in
the PostgreSQL image, already pulled for the database, as its "postgres" user (uid 70).
*/}}
{{- define "medusa-store.toolSecurity" -}}
{{ include "medusa-store.containerSecurity" . }}
runAsUser: 70
runAsGroup: 70
readOnlyRootFilesystem: true
{{- end }}

{{/* Environment of the psql helpers: libpq's own variables, the password from the Secret. */}}
{{- define "medusa-store.toolEnv" -}}
- name: PGHOST
  value: {{ include "medusa-store.componentName" (list . "postgres") }}
- name: PGUSER
  value: medusa
- name: PGDATABASE
  value: medusa
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentialsSecret }}
      key: db-password
{{- end }}

{{/*
The migration Job's pod template, without its name. Its hash names the Job
("medusa-migrate-<hash>"): a Job's pod template cannot be changed, so any change of image,
chart version, command or resources must make a new Job, and the same values must always
make the same one.
*/}}
{{- define "medusa-store.migrateTemplate" -}}
metadata:
  labels:
    {{- include "medusa-store.labels" (list . "migrate") | nindent 4 }}
spec:
  {{- include "medusa-store.podCommon" . | nindent 2 }}
  restartPolicy: Never
  securityContext:
    {{- include "medusa-store.medusaPodSecurity" . | nindent 4 }}
  initContainers:
    - name: wait-for-database
      image: {{ include "medusa-store.image" .Values.database.image | quote }}
      imagePullPolicy: {{ .Values.database.image.pullPolicy }}
      command: ["sh", "-c", "until pg_isready -q; do echo waiting for PostgreSQL; sleep 2; done"]
      env:
        {{- include "medusa-store.toolEnv" . | nindent 8 }}
      resources:
        {{- include "medusa-store.resources" (list . "tools") | nindent 8 }}
      securityContext:
        {{- include "medusa-store.toolSecurity" . | nindent 8 }}
    - name: migrate
      image: {{ include "medusa-store.image" .Values.image | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        {{- toYaml .Values.migrations.command | nindent 8 }}
      env:
        {{- include "medusa-store.appEnv" (list . "jobs") | nindent 8 }}
      resources:
        {{- include "medusa-store.resources" (list . "jobs") | nindent 8 }}
      securityContext:
        {{- include "medusa-store.medusaSecurity" . | nindent 8 }}
      volumeMounts:
        {{- include "medusa-store.medusaMounts" . | nindent 8 }}
  containers:
    # Runs only once the migration succeeded: records this Job's name, which the server,
    # worker and seed pods of the same rollout wait for.
    - name: record
      image: {{ include "medusa-store.image" .Values.database.image | quote }}
      imagePullPolicy: {{ .Values.database.image.pullPolicy }}
      command:
        - sh
        - -c
        # psql substitutes :'job' (quoted) only in input it reads, not in -c.
        - >-
          printf '%s\n'
          "CREATE TABLE IF NOT EXISTS storeplane_migrations (job text PRIMARY KEY, finished_at timestamptz NOT NULL DEFAULT now());"
          "INSERT INTO storeplane_migrations (job) VALUES (:'job') ON CONFLICT DO NOTHING;"
          | psql -v ON_ERROR_STOP=1 -v job="$JOB_NAME"
      env:
        {{- include "medusa-store.toolEnv" . | nindent 8 }}
        - name: JOB_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.labels['batch.kubernetes.io/job-name']
      resources:
        {{- include "medusa-store.resources" (list . "tools") | nindent 8 }}
      securityContext:
        {{- include "medusa-store.toolSecurity" . | nindent 8 }}
  volumes:
    {{- include "medusa-store.medusaVolumes" . | nindent 4 }}
{{- end }}

{{/* Name of this rollout's migration Job. */}}
{{- define "medusa-store.migrateJobName" -}}
{{- printf "medusa-migrate-%s" (include "medusa-store.migrateTemplate" . | sha256sum | trunc 10) }}
{{- end }}

{{/*
Init container of every pod that needs the schema of this rollout (server, worker, seed):
waits until this rollout's migration Job recorded its success. Without it, pods started
before the migration would crash-loop (and back off for minutes) until the schema exists.
*/}}
{{- define "medusa-store.waitForMigration" -}}
- name: wait-for-migration
  image: {{ include "medusa-store.image" .Values.database.image | quote }}
  imagePullPolicy: {{ .Values.database.image.pullPolicy }}
  command:
    - sh
    - -c
    - >-
      until echo "SELECT 1 FROM storeplane_migrations WHERE job = :'job';"
      | psql -tAq -v job="$MIGRATION_JOB" 2>/dev/null | grep -q 1;
      do echo "waiting for Job $MIGRATION_JOB"; sleep 3; done
  env:
    {{- include "medusa-store.toolEnv" . | nindent 4 }}
    - name: MIGRATION_JOB
      value: {{ include "medusa-store.migrateJobName" . }}
  resources:
    {{- include "medusa-store.resources" (list . "tools") | nindent 4 }}
  securityContext:
    {{- include "medusa-store.toolSecurity" . | nindent 4 }}
{{- end }}

{{/* Admin login of the store: seed.adminEmail, else admin@<host>. */}}
{{- define "medusa-store.adminEmail" -}}
{{- .Values.seed.adminEmail | default (printf "admin@%s" (include "medusa-store.host" .)) }}
{{- end }}

{{/* The seed Job's pod template, without its name (see seed-job.yaml). */}}
{{- define "medusa-store.seedTemplate" -}}
metadata:
  labels:
    {{- include "medusa-store.labels" (list . "seed") | nindent 4 }}
spec:
  {{- include "medusa-store.podCommon" . | nindent 2 }}
  restartPolicy: Never
  securityContext:
    {{- include "medusa-store.medusaPodSecurity" . | nindent 4 }}
  initContainers:
    {{- include "medusa-store.waitForMigration" . | nindent 4 }}
  containers:
    - name: seed
      image: {{ include "medusa-store.image" .Values.image | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      # `medusa user` fails on an existing e-mail, so it runs only when the image's
      # ensure-admin script says there is no admin yet (exit 3); exit 0 means the admin can
      # log in (a half-made one is repaired), anything else fails the pod with its cause.
      command:
        - sh
        - -c
        - >-
          set -e;
          admin=0; ./node_modules/.bin/medusa exec ./src/scripts/ensure-admin.js || admin=$?;
          if [ "$admin" -eq 3 ]; then
          ./node_modules/.bin/medusa user -e "$ADMIN_EMAIL" -p "$ADMIN_PASSWORD";
          elif [ "$admin" -ne 0 ]; then exit "$admin"; fi;
          ./node_modules/.bin/medusa exec ./src/scripts/seed.js
      env:
        {{- include "medusa-store.appEnv" (list . "jobs") | nindent 8 }}
        - name: ADMIN_EMAIL
          value: {{ include "medusa-store.adminEmail" . | quote }}
        - name: ADMIN_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ .Values.credentialsSecret }}
              key: admin-password
        - name: SEED_STORE_NAME
          value: {{ .Values.store.name | quote }}
        - name: SEED_CURRENCY
          value: {{ .Values.seed.currency | quote }}
        - name: SEED_COUNTRIES
          value: {{ join "," .Values.seed.countries | quote }}
      resources:
        {{- include "medusa-store.resources" (list . "jobs") | nindent 8 }}
      securityContext:
        {{- include "medusa-store.medusaSecurity" . | nindent 8 }}
      volumeMounts:
        {{- include "medusa-store.medusaMounts" . | nindent 8 }}
  volumes:
    {{- include "medusa-store.medusaVolumes" . | nindent 4 }}
{{- end }}

{{/*
A Medusa Deployment: (list $ "server" | "worker"). Same image, the role from
MEDUSA_WORKER_MODE; the server has the HTTP port, probes on /health and one surge pod per
rollout; the worker has no port and is replaced (Recreate) so that its surge pod does not
have to fit the plan quota too.
*/}}
{{- define "medusa-store.deployment" -}}
{{- $ := index . 0 }}
{{- $role := index . 1 }}
{{- $server := eq $role "server" }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "medusa-store.componentName" (list $ $role) }}
  labels:
    {{- include "medusa-store.labels" (list $ $role) | nindent 4 }}
  annotations:
    storeplane.dev/store-name: {{ $.Values.store.name | quote }}
spec:
  replicas: {{ include "medusa-store.replicas" (list $ (index $.Values $role "replicas")) }}
  revisionHistoryLimit: 3
  {{- if $server }}
  # One surge pod at a time and none unavailable: the old server keeps serving until the new
  # one (migrated schema, /health OK) is ready. The small preset has room for exactly one.
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  {{- else }}
  # Background jobs wait in Redis while the worker is replaced.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "medusa-store.selectorLabels" (list $ $role) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "medusa-store.labels" (list $ $role) | nindent 8 }}
        {{- include "medusa-store.uploadsLabel" $ | nindent 8 }}
    spec:
      {{- include "medusa-store.podCommon" $ | nindent 6 }}
      securityContext:
        {{- include "medusa-store.medusaPodSecurity" $ | nindent 8 }}
      # Server and worker share the uploads claim (the worker's imports and exports go
      # through the file provider too): one node, see uploadsAffinity.
      affinity:
        {{- include "medusa-store.uploadsAffinity" $ | nindent 8 }}
      initContainers:
        {{- include "medusa-store.waitForMigration" $ | nindent 8 }}
      containers:
        - name: {{ $role }}
          image: {{ include "medusa-store.image" $.Values.image | quote }}
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          # Starts from the built server (the image's /app); never migrates (the Job does).
          command: ["/app/node_modules/.bin/medusa", "start"]
          {{- if $server }}
          ports:
            - name: http
              containerPort: 9000
              protocol: TCP
          {{- end }}
          env:
            {{- include "medusa-store.appEnv" (list $ $role) | nindent 12 }}
          {{- if $server }}
          # Medusa boots in about 6 s on a full CPU, several times that on the small preset's
          # limit: the startup probe allows 3 minutes before liveness takes over.
          startupProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: 5
            failureThreshold: 36
          readinessProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          livenessProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 6
          {{- end }}
          resources:
            {{- include "medusa-store.resources" (list $ $role) | nindent 12 }}
          securityContext:
            {{- include "medusa-store.medusaSecurity" $ | nindent 12 }}
          volumeMounts:
            {{- include "medusa-store.medusaMounts" $ | nindent 12 }}
      volumes:
        {{- include "medusa-store.appVolumes" $ | nindent 8 }}
{{- end }}

{{/*
Replicas of a workload: (list $ n). 0 while the store is suspended (storeplane's suspend:
volumes and Secrets stay, nothing runs), else n.
*/}}
{{- define "medusa-store.replicas" -}}
{{- $ := index . 0 }}
{{- ternary 0 (index . 1) (eq $.Values.suspended true) }}
{{- end }}

{{/*
The Service behind the Ingress: (list $ component). While suspended, storeplane's maintenance
backend (maintenance.service, made by storeplane, not by this chart: a 503 page).
*/}}
{{- define "medusa-store.ingressService" -}}
{{- $ := index . 0 }}
{{- if $.Values.suspended }}
{{- $.Values.maintenance.service }}
{{- else }}
{{- include "medusa-store.componentName" (list $ (index . 1)) }}
{{- end }}
{{- end }}
