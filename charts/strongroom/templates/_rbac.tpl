{{/*
Every permission a Strongroom component holds, with the code that uses it. tests/chart compares
the rendered rules with an explicit allow-list, so a permission added here fails that test until
it is justified there too. App ServiceAccounts get nothing from this chart.
*/}}

{{/* --- control plane --------------------------------------------------------------------- */}}

{{- define "strongroom.controlplaneRoleRules" -}}
# Sealed grant records, compiled policies, App key documents, the root keyring and the sealing
# key pair are Secrets in this namespace (kubestore.storage, rootkeys, sealingkeys); sidecars'
# watch streams follow them with a watch.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, update, delete]
{{- end }}

{{- define "strongroom.controlplaneClusterRules" -}}
# Sidecar authentication (controlplane.tokenreview): review the projected token, read the pod it
# is bound to, read the App the pod names.
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [strongroom.dev]
  resources: [apps]
  verbs: [get]
{{- end }}

{{/* --- operator --------------------------------------------------------------------------- */}}

{{- define "strongroom.operatorRoleRules" -}}
# The reconcile logic writes sealed records, compiled policies and App keys through the same
# storage as the control plane (kubestore), in this namespace only.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, update, delete]
{{- end }}

{{- define "strongroom.operatorClusterRules" -}}
# kopf lists and watches every kind it handles and patches finalizers, progress annotations
# and status.
- apiGroups: [strongroom.dev]
  resources: [apps, providers, grants, agents]
  verbs: [get, list, watch, patch]
- apiGroups: [strongroom.dev]
  resources: [apps/status, providers/status, grants/status, agents/status]
  verbs: [patch]
# The Agent key Secret is owned by its Agent with blockOwnerDeletion, which the
# OwnerReferencesPermissionEnforcement admission plugin allows only with this right.
- apiGroups: [strongroom.dev]
  resources: [agents/finalizers]
  verbs: [update]
# Secrets in App namespaces: Providers' client secrets and Grants' secretRefs are read (get);
# an Agent's key Secret <agent>-strongroom-key is written (create, update).
{{- if .Values.operator.deletePlaintextSecrets }}
# operator.deletePlaintextSecrets: a sealed Grant's plaintext Secret is deleted on request.
{{- end }}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, update{{ if .Values.operator.deletePlaintextSecrets }}, delete{{ end }}]
{{- if include "strongroom.operatorCaSource" . }}
# The control plane's CA as ConfigMap {{ .Values.controlPlane.caBundle.configMapName }} in every namespace with an App
# (kopfhandlers.cabundles): read the source in the release namespace and each namespace's copy
# (get), create it with the first App, update it when the CA changes, delete it with the last
# App. Only ConfigMaps labelled app.kubernetes.io/managed-by=strongroom are updated or deleted.
# Names cannot limit create, and the ConfigMap is the webhook's fixed name in any namespace.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, update, delete]
{{- end }}
# Events for what a person should notice (kopf posts core/v1 Events).
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# kopf follows CRDs appearing and disappearing.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- if gt (int .Values.operator.replicas) 1 }}
# Peering between replicas (only with several replicas; one replica runs --standalone).
- apiGroups: [kopf.dev]
  resources: [clusterkopfpeerings]
  verbs: [list, watch]
- apiGroups: [kopf.dev]
  resources: [clusterkopfpeerings]
  resourceNames: [{{ .Values.operator.peeringName | quote }}]
  verbs: [get, patch]
{{- end }}
{{- end }}

{{/* --- webhook ---------------------------------------------------------------------------- */}}

{{- define "strongroom.webhookRoleRules" -}}
{{- if eq .Values.webhook.tls.mode "self-managed" -}}
# Self-managed TLS: the CA and serving certificate all replicas share (certs.sharing). Create
# cannot be limited by name; get and update can.
- apiGroups: [""]
  resources: [secrets]
  verbs: [create]
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [strongroom-webhook-tls]
  verbs: [get, update]
{{- end -}}
{{- end }}

{{- define "strongroom.webhookClusterRules" -}}
# Admission reads the App a pod names (webhook.apps).
- apiGroups: [strongroom.dev]
  resources: [apps]
  verbs: [get]
{{- if eq .Values.webhook.tls.mode "self-managed" }}
# Self-managed TLS: keeps its own configuration's caBundle current (certs.sharing).
- apiGroups: [admissionregistration.k8s.io]
  resources: [mutatingwebhookconfigurations]
  resourceNames: [strongroom-webhook]
  verbs: [get, update]
{{- end }}
{{- end }}
