{{/*
serin.name is the app.kubernetes.io/name of the operator's pods, the key of every selector.
*/}}
{{- define "serin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
serin.fullname names the objects: the release's name when it contains the chart's (a release
named serin gives the names of kustomize/base), else release-chart, as in Flagger's chart.
*/}}
{{- define "serin.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
serin.labels are the labels of every object, those kustomize/base gives them. No helm.sh/chart
or managed-by label: the chart renders what kubectl apply -k does, and Helm records its
ownership in annotations of its own.
*/}}
{{- define "serin.labels" -}}
app.kubernetes.io/part-of: serin
{{- end -}}

{{- define "serin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "serin.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
serin.arg renders one container argument, JSON-quoted so that any value (a URL with # or ": ")
stays one YAML string.
*/}}
{{- define "serin.arg" -}}
- {{ . | toJson }}
{{- end -}}

{{/*
serin.validate fails on values that Serin cannot honour, naming the value: Flagger's chart
accepts them, and installing without them would silently do something else. The Flagger-only
values are not in values.yaml, hence the guards for their parents (and short-circuits).
*/}}
{{- define "serin.validate" -}}
{{- $providers := list "gatewayapi:v1" "gatewayapi:v1beta1" -}}
{{- if and .Values.meshProvider (not (has .Values.meshProvider $providers)) -}}
{{- fail (printf "meshProvider %q is not supported: Serin routes with the Gateway API only (%s)" .Values.meshProvider (join " or " $providers)) -}}
{{- end -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.leaderElection.replicaCount) 1) -}}
{{- fail (printf "leaderElection.replicaCount %v needs leaderElection.enabled: without it every replica would run the controller" .Values.leaderElection.replicaCount) -}}
{{- end -}}
{{- if and .Values.prometheus .Values.prometheus.install -}}
{{- fail "prometheus.install is not supported: Serin's chart installs no Prometheus; set metricsServer to yours" -}}
{{- end -}}
{{- if .Values.rbac.pspEnabled -}}
{{- fail "rbac.pspEnabled is not supported: PodSecurityPolicy was removed in Kubernetes 1.25; the pod runs under the restricted Pod Security Standard" -}}
{{- end -}}
{{- if and .Values.linkerdAuthPolicy .Values.linkerdAuthPolicy.create -}}
{{- fail "linkerdAuthPolicy.create is not supported: Serin routes with the Gateway API, not Linkerd" -}}
{{- end -}}
{{- if and .Values.controlplane .Values.controlplane.kubeconfig .Values.controlplane.kubeconfig.secretName -}}
{{- fail "controlplane.kubeconfig.secretName is not supported: Serin writes its routes in its own cluster (-kubeconfig-service-mesh may not name another)" -}}
{{- end -}}
{{- end -}}
