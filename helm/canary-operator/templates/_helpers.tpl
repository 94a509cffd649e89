{{/* Chart name, overridable with nameOverride. */}}
{{- define "canary-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the objects: fullnameOverride, else the release name when it
contains the chart name, else "<release>-<chart>". 63 characters at most.
*/}}
{{- define "canary-operator.fullname" -}}
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

{{- define "canary-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "canary-operator.labels" -}}
helm.sh/chart: {{ include "canary-operator.chart" . }}
{{ include "canary-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels selecting the operator's pods. */}}
{{- define "canary-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "canary-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "canary-operator.serviceAccountName" -}}
{{- include "canary-operator.fullname" . }}
{{- end }}

{{- define "canary-operator.leaseName" -}}
{{- default (printf "%s-leader" (include "canary-operator.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "canary-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The rights the operator needs on the resources it manages, and nothing else.
Shared by the ClusterRole (all namespaces) and the per-namespace Roles
(watchNamespaces).
*/}}
{{- define "canary-operator.rules" -}}
# CanaryReleases: read, and merge-patch metadata.finalizers (never the spec).
- apiGroups: [canary-operator.dev]
  resources: [canaryreleases]
  verbs: [get, list, watch, patch]
# Status is written through the status subresource.
- apiGroups: [canary-operator.dev]
  resources: [canaryreleases/status]
  verbs: [update, patch]
# VirtualServices: only the managed route's weights are patched.
- apiGroups: [networking.istio.io]
  resources: [virtualservices]
  verbs: [get, list, watch, patch]
- apiGroups: [networking.istio.io]
  resources: [destinationrules]
  verbs: [get, list, watch]
# Gateway API HTTPRoutes (GAMMA): only the managed rule's backendRefs weights are patched; status is read.
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, watch, patch]
# The canary workload's availability: Deployments matched through the Service selector.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [services]
  verbs: [list, watch]
# Events on CanaryReleases.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* Fails rendering on values that cannot work, naming the value. */}}
{{- define "canary-operator.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 needs leaderElection.enabled=true: without it every replica would reconcile the same releases" }}
{{- end }}
{{- range .Values.watchNamespaces }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .) }}
{{- fail (printf "watchNamespaces: %q is not a namespace name" .) }}
{{- end }}
{{- end }}
{{- end }}
