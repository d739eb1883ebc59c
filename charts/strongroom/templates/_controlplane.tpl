{{/*
The control-plane pod spec, shared by the serving replicas (strongroom-controlplane) and the
audit collector (strongroom-audit): (list $ true) renders the collector.
*/}}
{{- define "strongroom.controlPlanePodSpec" -}}
{{- $root := index . 0 -}}
{{- $collector := index . 1 -}}
{{- $values := ternary $root.Values.audit $root.Values.controlPlane $collector -}}
{{- $ns := $root.Release.Namespace -}}
{{- $admins := concat (list (printf "system:serviceaccount:%s:strongroom-controlplane" $ns)) $root.Values.controlPlane.adminUsers -}}
{{- if $root.Values.cli.serviceAccount.create -}}
{{- $admins = append $admins (printf "system:serviceaccount:%s:strongroom-cli" $ns) -}}
{{- end -}}
{{- $images := concat (list (include "strongroom.sidecarImage" $root)) $root.Values.controlPlane.extraSidecarImages -}}
serviceAccountName: strongroom-controlplane
{{- include "strongroom.podCommon" $root | trim | nindent 0 }}
{{- with include "strongroom.scheduling" (list $root $values) | trim }}
{{ . }}
{{- end }}
containers:
  - name: controlplane
    image: {{ include "strongroom.controlPlaneImage" $root }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    command: [strongroom-controlplane]
    env:
      - name: STRONGROOM_CONTROLPLANE_NAMESPACE
        valueFrom:
          fieldRef:
            fieldPath: metadata.namespace
      - name: STRONGROOM_CONTROLPLANE_PORT
        value: "8443"
      - name: STRONGROOM_CONTROLPLANE_TLS_CERT_FILE
        value: /tls/tls.crt
      - name: STRONGROOM_CONTROLPLANE_TLS_KEY_FILE
        value: /tls/tls.key
      {{- if $collector }}
      # This replica is the audit collector: SQLite on the volume.
      - name: STRONGROOM_CONTROLPLANE_AUDIT_DB
        value: /data/audit.sqlite3
      {{- else }}
      # Audit goes to the collector, authenticated with this pod's own projected token.
      - name: STRONGROOM_CONTROLPLANE_AUDIT_URL
        value: {{ include "strongroom.auditURL" $root }}
      - name: STRONGROOM_CONTROLPLANE_AUDIT_TOKEN_FILE
        value: /var/run/secrets/strongroom.dev/serviceaccount/token
      - name: STRONGROOM_CONTROLPLANE_AUDIT_CA_FILE
        value: /tls/ca.crt
      {{- end }}
      - name: STRONGROOM_CONTROLPLANE_SIDECAR_IMAGES
        value: {{ join "," $images | quote }}
      - name: STRONGROOM_CONTROLPLANE_ADMIN_USERS
        value: {{ join "," $admins | quote }}
      - name: STRONGROOM_CONTROLPLANE_ADMIN_GROUPS
        value: {{ join "," $root.Values.controlPlane.adminGroups | quote }}
      - name: STRONGROOM_CONTROLPLANE_REVIEW_CACHE_SECONDS
        value: {{ $root.Values.controlPlane.reviewCacheSeconds | quote }}
    ports:
      - name: https
        containerPort: 8443
        protocol: TCP
    startupProbe:
      httpGet: {path: /v1/healthz, port: https, scheme: HTTPS}
      periodSeconds: 2
      failureThreshold: 60
    readinessProbe:
      httpGet: {path: /v1/healthz, port: https, scheme: HTTPS}
      periodSeconds: 10
    livenessProbe:
      httpGet: {path: /v1/healthz, port: https, scheme: HTTPS}
      periodSeconds: 20
      failureThreshold: 3
    resources:
      {{- toYaml $values.resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.containerSecurityContext | nindent 6 }}
    volumeMounts:
      - name: tls
        mountPath: /tls
        readOnly: true
      - name: tmp
        mountPath: /tmp
      {{- if $collector }}
      - name: data
        mountPath: /data
      {{- else }}
      - name: token
        mountPath: /var/run/secrets/strongroom.dev/serviceaccount
        readOnly: true
      {{- end }}
volumes:
  - name: tls
    secret:
      secretName: {{ include "strongroom.controlPlaneTLSSecret" $root }}
  {{- include "strongroom.tmpVolume" $root | nindent 2 }}
  {{- if $collector }}
  - name: data
    {{- if $root.Values.audit.persistence.enabled }}
    persistentVolumeClaim:
      claimName: strongroom-audit
    {{- else }}
    emptyDir: {}
    {{- end }}
  {{- else }}
  - name: token
    projected:
      sources:
        - serviceAccountToken:
            audience: strongroom
            expirationSeconds: 3600
            path: token
  {{- end }}
{{- end }}
