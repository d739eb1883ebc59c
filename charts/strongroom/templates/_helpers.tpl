{{/*
Names are fixed ("strongroom-<component>"): the processes, the webhook's settings and the docs
refer to them, and the chart is installed once per cluster.
*/}}

{{- define "strongroom.labels" -}}
app.kubernetes.io/name: strongroom
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: strongroom
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: "strongroom.componentLabels" (list $ "webhook") */}}
{{- define "strongroom.componentLabels" -}}
{{ include "strongroom.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Selector labels of one component's pods: (list $ "webhook") */}}
{{- define "strongroom.selectorLabels" -}}
app.kubernetes.io/name: strongroom
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* An image reference from {repository, tag, digest}: (list $ .Values.image.sidecar) */}}
{{- define "strongroom.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $repository := $image.repository -}}
{{- with $root.Values.image.registry }}{{ $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}{{ end -}}
{{- if $image.digest -}}
{{ printf "%s@%s" $repository $image.digest }}
{{- else -}}
{{ printf "%s:%s" $repository (default $root.Chart.AppVersion $image.tag) }}
{{- end -}}
{{- end }}

{{- define "strongroom.controlPlaneImage" -}}
{{ include "strongroom.image" (list . .Values.image.controlPlane) }}
{{- end }}

{{- define "strongroom.sidecarImage" -}}
{{ include "strongroom.image" (list . .Values.image.sidecar) }}
{{- end }}

{{/* ServiceAccount names */}}
{{- define "strongroom.serviceAccount" -}}
strongroom-{{ . }}
{{- end }}

{{/* The control plane's in-cluster URL, handed to every sidecar. */}}
{{- define "strongroom.controlPlaneURL" -}}
https://strongroom-controlplane.{{ .Release.Namespace }}.svc:8443
{{- end }}

{{/* The audit collector's in-cluster URL, used by the other control-plane replicas. */}}
{{- define "strongroom.auditURL" -}}
https://strongroom-audit.{{ .Release.Namespace }}.svc:8443
{{- end }}

{{/* DNS names of the control plane's certificate (API Service, collector Service, extras). */}}
{{- define "strongroom.controlPlaneDNSNames" -}}
{{- $names := list -}}
{{- range $service := list "strongroom-controlplane" "strongroom-audit" -}}
{{- $names = concat $names (list $service (printf "%s.%s" $service $.Release.Namespace) (printf "%s.%s.svc" $service $.Release.Namespace) (printf "%s.%s.svc.cluster.local" $service $.Release.Namespace)) -}}
{{- end -}}
{{- toJson (concat $names .Values.controlPlane.tls.extraDNSNames) -}}
{{- end }}

{{/* DNS names of the webhook's certificate. */}}
{{- define "strongroom.webhookDNSNames" -}}
{{- $ns := .Release.Namespace -}}
{{- toJson (list "strongroom-webhook" (printf "strongroom-webhook.%s" $ns) (printf "strongroom-webhook.%s.svc" $ns) (printf "strongroom-webhook.%s.svc.cluster.local" $ns)) -}}
{{- end }}

{{/* The Secret holding the control plane's tls.crt, tls.key and ca.crt. */}}
{{- define "strongroom.controlPlaneTLSSecret" -}}
{{- if eq .Values.controlPlane.tls.mode "secret" -}}
{{ required "controlPlane.tls.secretName is required when controlPlane.tls.mode is secret" .Values.controlPlane.tls.secretName }}
{{- else -}}
strongroom-controlplane-tls
{{- end -}}
{{- end }}

{{/*
Where the operator reads the control plane's CA to publish it into App namespaces
(--ca-bundle-source): the chart's ConfigMap in the release namespace (generated and secret
modes), the serving certificate's Secret (cert-manager mode, where cert-manager renews it), or
empty (off: trust-manager does it, or publishToAppNamespaces is false).
*/}}
{{- define "strongroom.operatorCaSource" -}}
{{- $bundle := .Values.controlPlane.caBundle -}}
{{- if and $bundle.publishToAppNamespaces (not $bundle.trustManager.enabled) -}}
{{- if eq .Values.controlPlane.tls.mode "cert-manager" -}}
secret/{{ include "strongroom.controlPlaneTLSSecret" . }}
{{- else -}}
configmap/{{ $bundle.configMapName }}
{{- end -}}
{{- end -}}
{{- end }}

{{/* Whether cert-manager objects are needed at all, and the issuer they use. */}}
{{- define "strongroom.usesCertManager" -}}
{{- if or (eq .Values.controlPlane.tls.mode "cert-manager") (eq .Values.webhook.tls.mode "cert-manager") -}}true{{- end -}}
{{- end }}

{{- define "strongroom.issuerRef" -}}
{{- if .Values.certManager.issuerRef -}}
{{ toYaml .Values.certManager.issuerRef }}
{{- else -}}
name: strongroom-ca
kind: Issuer
group: cert-manager.io
{{- end -}}
{{- end }}

{{/* The pod-level parts every Strongroom pod shares: pull secrets, security context. */}}
{{- define "strongroom.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling keys of one component: (list $ .Values.webhook) */}}
{{- define "strongroom.scheduling" -}}
{{- $values := index . 1 -}}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The writable /tmp every container gets (the root filesystem is read-only). */}}
{{- define "strongroom.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
{{- end }}
