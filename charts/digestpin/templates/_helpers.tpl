{{/* The chart name, or nameOverride. */}}
{{- define "digestpin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else the release name when it
contains the chart name, else RELEASE-CHART. Truncated to 63 characters (DNS label).
*/}}
{{- define "digestpin.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "digestpin.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "digestpin.labels" -}}
helm.sh/chart: {{ include "digestpin.chart" . }}
{{ include "digestpin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: digestpin
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the webhook's Pods (never change them: Deployment selectors are immutable). */}}
{{- define "digestpin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "digestpin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "digestpin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "digestpin.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
repository:tag, or repository:tag@digest when a digest is given. global.imageRegistry replaces
the repository's registry (its first part when that has a "." or ":" or is localhost).
*/}}
{{- define "digestpin.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- $repository := .Values.image.repository }}
{{- with dig "imageRegistry" "" (default (dict) .Values.global) }}
{{- $parts := splitList "/" $repository }}
{{- $first := first $parts }}
{{- if and (gt (len $parts) 1) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) }}
{{- $parts = rest $parts }}
{{- end }}
{{- $repository = printf "%s/%s" . (join "/" $parts) }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" $repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}
{{- end }}

{{/* The Secret with the serving certificate (self-managed: digestpin's; certManager: cert-manager's). */}}
{{- define "digestpin.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "digestpin.fullname" .)) .Values.certificates.secretName }}
{{- end }}

{{/* Name of the MutatingWebhookConfiguration and of the ValidatingWebhookConfiguration. */}}
{{- define "digestpin.webhookConfigurationName" -}}
{{- include "digestpin.fullname" . }}
{{- end }}

{{- define "digestpin.selfManaged" -}}
{{- if eq .Values.certificates.mode "selfManaged" }}true{{ end }}
{{- end }}

{{/*
files/webhooks.yaml with its placeholders filled in, as YAML (callers use `fromYaml`). It is
the one source of the webhooks' rules, failure policies, timeouts and selectors, shared with the
e2e tests (test/helpers/webhook-settings.ts).
*/}}
{{- define "digestpin.webhookSettings" -}}
{{- $text := .Files.Get "files/webhooks.yaml" }}
{{- $text = $text | replace "${RELEASE_NAMESPACE}" .Release.Namespace }}
{{- $text = $text | replace "${POLICY_CONFIGMAP}" .Values.policy.configMapName }}
{{- $text = $text | replace "${AUTO_PINS_CONFIGMAP}" .Values.policy.autoPinsConfigMapName }}
{{- $settings := fromYaml $text }}
{{- if or (hasKey $settings "Error") (not $settings.mutating) (not $settings.validating) }}
{{- fail (printf "files/webhooks.yaml cannot be read: %v" (get $settings "Error")) }}
{{- end }}
{{- toYaml $settings }}
{{- end }}

{{/* The webhooks' timeoutSeconds: the value override, else the file's (the same for all three). */}}
{{- define "digestpin.timeoutSeconds" -}}
{{- if .Values.webhooks.timeoutSeconds }}
{{- .Values.webhooks.timeoutSeconds }}
{{- else }}
{{- $settings := include "digestpin.webhookSettings" . | fromYaml }}
{{- (first $settings.mutating).timeoutSeconds }}
{{- end }}
{{- end }}

{{/*
The `webhooks:` list of one configuration: (dict "root" $ "kind" "mutating"|"validating").
Each webhook of files/webhooks.yaml gets its clientConfig (the Service and the file's path) and
the overrides of `webhooks.*` in values.yaml; nothing else changes.
*/}}
{{- define "digestpin.webhooks" -}}
{{- $root := .root }}
{{- $values := $root.Values.webhooks }}
{{- $settings := include "digestpin.webhookSettings" $root | fromYaml }}
{{- $podWebhooks := list "mutate.digestpin.dev" "validate.digestpin.dev" }}
{{- $webhooks := list }}
{{- range (get $settings .kind) }}
{{- $webhook := deepCopy . }}
{{- $path := required (printf "files/webhooks.yaml has no path for %s" $webhook.name) (get $settings.paths $webhook.name) }}
{{- $service := dict "name" (include "digestpin.fullname" $root) "namespace" $root.Release.Namespace "path" $path "port" 443 }}
{{- $_ := set $webhook "clientConfig" (dict "service" $service) }}
{{- if $values.timeoutSeconds }}
{{- $_ := set $webhook "timeoutSeconds" (int $values.timeoutSeconds) }}
{{- end }}
{{- if has $webhook.name $podWebhooks }}
{{- if $values.failurePolicy }}
{{- $_ := set $webhook "failurePolicy" $values.failurePolicy }}
{{- end }}
{{- range $webhook.namespaceSelector.matchExpressions }}
{{- if and (eq .key "kubernetes.io/metadata.name") (eq .operator "NotIn") }}
{{- $_ := set . "values" (concat .values $values.excludeNamespaces | uniq) }}
{{- end }}
{{- end }}
{{- with $values.namespaceSelectorExpressions }}
{{- $_ := set $webhook.namespaceSelector "matchExpressions" (concat $webhook.namespaceSelector.matchExpressions .) }}
{{- end }}
{{- with $values.objectSelector }}
{{- $_ := set $webhook "objectSelector" (deepCopy .) }}
{{- end }}
{{- if kindIs "slice" $values.matchConditions }}
{{- $_ := set $webhook "matchConditions" (deepCopy $values.matchConditions) }}
{{- end }}
{{- if and (eq $webhook.name "mutate.digestpin.dev") $values.mutateTemplates }}
{{- $_ := set $webhook "rules" (concat $webhook.rules $settings.templateRules) }}
{{- end }}
{{- end }}
{{- $webhooks = append $webhooks $webhook }}
{{- end }}
{{- toYaml $webhooks }}
{{- end }}

{{/* Annotations of both webhook configurations. */}}
{{- define "digestpin.webhookAnnotations" -}}
{{- $annotations := deepCopy (default (dict) .Values.webhooks.annotations) }}
{{- if eq .Values.certificates.mode "certManager" }}
{{- $_ := set $annotations "cert-manager.io/inject-ca-from" (printf "%s/%s" .Release.Namespace (include "digestpin.fullname" .)) }}
{{- end }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The PrometheusRule's `groups`, as YAML: files/alerts.yaml (the one source of the rules, which the
promtool tests run on as rendered) with its placeholders filled in from `prometheusRule`, each
alert's runbook_url and additional labels added, and the alerts not enabled left out.
*/}}
{{- define "digestpin.alertGroups" -}}
{{- $values := .Values.prometheusRule }}
{{- $service := include "digestpin.fullname" . }}
{{- $selector := default (printf "job=%q,namespace=%q" $service .Release.Namespace) $values.selector }}
{{- $text := .Files.Get "files/alerts.yaml" }}
{{- $text = $text | replace "${SELECTOR}" $selector }}
{{- $text = $text | replace "${NAMESPACE}" .Release.Namespace }}
{{- $text = $text | replace "${SERVICE}" $service }}
{{- $text = $text | replace "${HANDOVER}" $values.leaderHandoverGrace }}
{{- range $alert, $settings := $values.alerts }}
{{- range $key, $value := $settings }}
{{- $text = $text | replace (printf "${%s.%s}" $alert $key) (toString $value) }}
{{- end }}
{{- end }}
{{- $file := fromYaml $text }}
{{- if or (hasKey $file "Error") (not $file.groups) }}
{{- fail (printf "files/alerts.yaml cannot be read: %v" (get $file "Error")) }}
{{- end }}
{{- with regexFind "\\$\\{[^}]*\\}" (toYaml $file) }}
{{- fail (printf "files/alerts.yaml: %s has no value in prometheusRule" .) }}
{{- end }}
{{- $groups := list }}
{{- range $file.groups }}
{{- $rules := list }}
{{- range .rules }}
{{- $settings := required (printf "prometheusRule.alerts.%s is missing" .alert) (get $values.alerts .alert) }}
{{- if $settings.enabled }}
{{- $rule := deepCopy . }}
{{- $_ := set $rule "labels" (merge (deepCopy $rule.labels) $values.additionalAlertLabels) }}
{{- $_ := set $rule.annotations "runbook_url" (printf "%s#alert-%s" $values.runbookBaseUrl (lower .alert)) }}
{{- $rules = append $rules $rule }}
{{- end }}
{{- end }}
{{- $groups = append $groups (set (deepCopy .) "rules" $rules) }}
{{- end }}
{{- toYaml (dict "groups" $groups) }}
{{- end }}
