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
{{- $port := ternary (printf ":%v" .Values.publicPort) "" (not (empty .Values.publicPort)) }}
{{- printf "%s://%s%s" (ternary "https" "http" .Values.ingress.tls.enabled) (include "woocommerce-store.host" .) $port }}
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

{{/*
Environment of WordPress and of the setup Job's wp-cli: the database, the keys and salts and
the public URL. The image's wp-config-docker.php reads all of them at run time, so both see
the same configuration.
*/}}
{{- define "woocommerce-store.wordpressEnv" -}}
- name: WORDPRESS_DB_HOST
  value: "{{ include "woocommerce-store.componentName" (list . "mariadb") }}:3306"
- name: WORDPRESS_DB_NAME
  value: wordpress
- name: WORDPRESS_DB_USER
  value: wordpress
- name: WORDPRESS_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentialsSecret }}
      key: db-password
# wp-config.php is regenerated at every start (it is not on the volume): without
# fixed keys and salts every restart would log everybody out. They derive from the
# store's cookie secret, one distinct prefix each.
- name: COOKIE_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.credentialsSecret }}
      key: cookie-secret
{{- range list "AUTH_KEY" "SECURE_AUTH_KEY" "LOGGED_IN_KEY" "NONCE_KEY" "AUTH_SALT" "SECURE_AUTH_SALT" "LOGGED_IN_SALT" "NONCE_SALT" }}
- name: WORDPRESS_{{ . }}
  value: "{{ . | lower }}:$(COOKIE_SECRET)"
{{- end }}
# The public URL follows the values (baseDomain, TLS); the image's wp-config already
# honours X-Forwarded-Proto from the ingress.
# With custom domains, WordPress answers on each as its home (it would redirect them to the
# store's own host otherwise): the home URL follows the request's host when it is one of them.
- name: WORDPRESS_CONFIG_EXTRA
  {{- if .Values.domains }}
  {{- $port := ternary (printf ":%v" .Values.publicPort) "" (not (empty .Values.publicPort)) }}
  {{- $scheme := ternary "https" "http" .Values.ingress.tls.enabled }}
  {{- $hosts := list }}
  {{- range .Values.domains }}{{ $hosts = append $hosts (printf "'%s'" .host) }}{{ end }}
  value: "$storeplane_host = strtolower(explode(':', $_SERVER['HTTP_HOST'] ?? '')[0]); $storeplane_home = in_array($storeplane_host, [{{ join ", " $hosts }}], true) ? '{{ $scheme }}://' . $storeplane_host . '{{ $port }}' : '{{ include "woocommerce-store.url" . }}'; define('WP_HOME', $storeplane_home); define('WP_SITEURL', $storeplane_home);"
  {{- else }}
  value: "define('WP_HOME', '{{ include "woocommerce-store.url" . }}'); define('WP_SITEURL', '{{ include "woocommerce-store.url" . }}');"
  {{- end }}
{{- end }}

{{/* Admin e-mail: setup.adminEmail, else admin@<host>. */}}
{{- define "woocommerce-store.adminEmail" -}}
{{- .Values.setup.adminEmail | default (printf "admin@%s" (include "woocommerce-store.host" .)) }}
{{- end }}

{{/*
The setup Job's pod template, without its name (see setup-job.yaml). The script's checksum is
an annotation, so a changed script also makes a new Job.
*/}}
{{- define "woocommerce-store.setupTemplate" -}}
metadata:
  labels:
    {{- include "woocommerce-store.labels" (list . "setup") | nindent 4 }}
  annotations:
    storeplane.dev/script-sha256: {{ include (print .Template.BasePath "/setup-configmap.yaml") . | sha256sum }}
spec:
  {{- include "woocommerce-store.podCommon" . | nindent 2 }}
  restartPolicy: Never
  securityContext:
    # www-data of the Debian-based wordpress image (uid 33), the owner of wp-content; the
    # Alpine-based wordpress:cli image's own www-data is 82, hence the explicit uid.
    runAsNonRoot: true
    runAsUser: 33
    runAsGroup: 33
    fsGroup: 33
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  # wp-content is ReadWriteOnce: the Job must run on the node that mounts it for WordPress.
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        - labelSelector:
            matchLabels:
              {{- include "woocommerce-store.selectorLabels" (list . "wordpress") | nindent 14 }}
          topologyKey: kubernetes.io/hostname
  initContainers:
    # wordpress:cli ships wp-cli, not WordPress: copy core (and the env-reading
    # wp-config-docker.php) from the same wordpress image the store runs.
    - name: copy-core
      image: {{ include "woocommerce-store.image" .Values.image | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        - sh
        - -c
        - cp -R /usr/src/wordpress/. /var/www/html/ && cp /usr/src/wordpress/wp-config-docker.php /var/www/html/wp-config.php
      resources:
        {{- include "woocommerce-store.resources" (list . "tools") | nindent 8 }}
      securityContext:
        {{- include "woocommerce-store.containerSecurity" . | nindent 8 }}
        readOnlyRootFilesystem: true
      volumeMounts:
        - name: docroot
          mountPath: /var/www/html
        - name: wp-content
          mountPath: /var/www/html/wp-content
  containers:
    - name: setup
      image: {{ include "woocommerce-store.image" .Values.setup.image | quote }}
      imagePullPolicy: {{ .Values.setup.image.pullPolicy }}
      command: ["sh", "/scripts/setup.sh"]
      workingDir: /var/www/html
      env:
        {{- include "woocommerce-store.wordpressEnv" . | nindent 8 }}
        - name: ADMIN_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ .Values.credentialsSecret }}
              key: admin-password
        - name: ADMIN_USER
          value: {{ .Values.setup.adminUser | quote }}
        - name: ADMIN_EMAIL
          value: {{ include "woocommerce-store.adminEmail" . | quote }}
        - name: STORE_URL
          value: {{ include "woocommerce-store.url" . | quote }}
        - name: STORE_TITLE
          value: {{ .Values.store.name | quote }}
        - name: WOOCOMMERCE_VERSION
          value: {{ .Values.setup.woocommerce.version | default "" | quote }}
        - name: WOOCOMMERCE_SOURCE
          value: {{ .Values.setup.woocommerce.source | default "" | quote }}
        - name: SHOP_CURRENCY
          value: {{ .Values.setup.currency | quote }}
        - name: SHOP_COUNTRY
          value: {{ .Values.setup.country | quote }}
        - name: PRODUCT_NAME
          value: {{ .Values.setup.product.name | quote }}
        - name: PRODUCT_SKU
          value: {{ .Values.setup.product.sku | quote }}
        - name: PRODUCT_PRICE
          value: {{ .Values.setup.product.price | quote }}
        # wp-cli's cache and config live under HOME: keep them on the writable /tmp.
        - name: HOME
          value: /tmp
      resources:
        {{- include "woocommerce-store.resources" (list . "setup") | nindent 8 }}
      securityContext:
        {{- include "woocommerce-store.containerSecurity" . | nindent 8 }}
        readOnlyRootFilesystem: true
      volumeMounts:
        - name: docroot
          mountPath: /var/www/html
        - name: wp-content
          mountPath: /var/www/html/wp-content
        - name: scripts
          mountPath: /scripts
          readOnly: true
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: docroot
      emptyDir: {}
    - name: wp-content
      persistentVolumeClaim:
        claimName: {{ include "woocommerce-store.componentName" (list . "wp-content") }}
    - name: scripts
      configMap:
        name: {{ include "woocommerce-store.componentName" (list . "setup") }}
    - name: tmp
      emptyDir: {}
{{- end }}

{{/*
Replicas of a workload: (list $ n). 0 while the store is suspended (storeplane's suspend:
volumes and Secrets stay, nothing runs), else n.
*/}}
{{- define "woocommerce-store.replicas" -}}
{{- $ := index . 0 }}
{{- ternary 0 (index . 1) (eq $.Values.suspended true) }}
{{- end }}

{{/*
The Service behind the Ingress: (list $ component). While suspended, storeplane's maintenance
backend (maintenance.service, made by storeplane, not by this chart: a 503 page).
*/}}
{{- define "woocommerce-store.ingressService" -}}
{{- $ := index . 0 }}
{{- if $.Values.suspended }}
{{- $.Values.maintenance.service }}
{{- else }}
{{- include "woocommerce-store.componentName" (list $ (index . 1)) }}
{{- end }}
{{- end }}
