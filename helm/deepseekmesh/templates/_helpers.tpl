{{/* Chart name. */}}
{{- define "deepseekmesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release full name (object names are "<fullname>-<component>"). */}}
{{- define "deepseekmesh.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "deepseekmesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "deepseekmesh.labels" -}}
helm.sh/chart: {{ include "deepseekmesh.chart" . }}
app.kubernetes.io/name: {{ include "deepseekmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: deepseekmesh
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "deepseekmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "deepseekmesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "deepseekmesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-silo" (include "deepseekmesh.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image of a pod: (dict "root" $ "gpu" true|false). image.tag, else the chart's appVersion; plus
"-<variant>" where variant is image.variant, or gpu.imageVariant for a pod that requests GPUs
(a tag that already ends with it is kept as it is).
*/}}
{{- define "deepseekmesh.image" -}}
{{- $v := .root.Values -}}
{{- $variant := ternary (default $v.image.variant $v.gpu.imageVariant) $v.image.variant (and .gpu true) -}}
{{- $tag := $v.image.tag | default .root.Chart.AppVersion -}}
{{- if and $variant (not (hasSuffix (printf "-%s" $variant) $tag)) (or (not $v.image.tag) (and .gpu true)) }}
{{- $tag = printf "%s-%s" $tag $variant }}
{{- end }}
{{- printf "%s:%s" $v.image.repository $tag }}
{{- end }}

{{/* "true" when a pool's (or the frontend's) resources request or limit gpu.resource (nvidia.com/gpu), else "". */}}
{{- define "deepseekmesh.requestsGpu" -}}
{{- $r := .pool.resources | default dict -}}
{{- $name := .root.Values.gpu.resource -}}
{{- if or (gt (float64 (index ($r.limits | default dict) $name | default 0)) 0.0) (gt (float64 (index ($r.requests | default dict) $name | default 0)) 0.0) }}true{{ end }}
{{- end }}

{{/* Orleans cluster id: orleans.clusterId or the release's full name. */}}
{{- define "deepseekmesh.clusterId" -}}
{{- default (include "deepseekmesh.fullname" .) .Values.orleans.clusterId }}
{{- end }}

{{- define "deepseekmesh.redisHost" -}}
{{- printf "%s-redis" (include "deepseekmesh.fullname" .) }}
{{- end }}

{{/* The env var DSMESH_REDIS (Redis membership connection string), expanded into --redis $(DSMESH_REDIS). */}}
{{- define "deepseekmesh.redisEnv" -}}
- name: DSMESH_REDIS
{{- if .Values.redis.enabled }}
  value: {{ printf "%s:%d" (include "deepseekmesh.redisHost" .) (int .Values.redis.port) | quote }}
{{- else if .Values.redis.external.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.existingSecretKey }}
{{- else if .Values.redis.external.connectionString }}
  value: {{ .Values.redis.external.connectionString | quote }}
{{- else }}
{{- fail "redis.enabled=false needs redis.external.connectionString or redis.external.existingSecret" }}
{{- end }}
{{- end }}

{{/* The model directory the processes read (--model). */}}
{{- define "deepseekmesh.modelDir" -}}
{{- $base := ternary .Values.model.imagePath .Values.model.mountPath (eq .Values.model.source "image") -}}
{{- if .Values.model.subPath }}
{{- printf "%s/%s" (trimSuffix "/" $base) (trimPrefix "/" .Values.model.subPath) }}
{{- else }}
{{- $base }}
{{- end }}
{{- end }}

{{/* Volumes every pod has: /tmp and (unless baked into the image) the model. */}}
{{- define "deepseekmesh.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.tls.enabled }}
- name: mesh-tls
  secret:
    secretName: {{ required "tls.secretName is required when tls.enabled (a Secret with tls.crt, tls.key, ca.crt)" .Values.tls.secretName }}
{{- end }}
{{- if eq .Values.model.source "pvc" }}
- name: model
  persistentVolumeClaim:
    claimName: {{ required "model.pvc.claimName is required when model.source=pvc" .Values.model.pvc.claimName }}
    readOnly: true
{{- else if eq .Values.model.source "hostPath" }}
- name: model
  hostPath:
    path: {{ required "model.hostPath.path is required when model.source=hostPath" .Values.model.hostPath.path }}
    type: {{ .Values.model.hostPath.type }}
{{- end }}
{{- end }}

{{- define "deepseekmesh.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.tls.enabled }}
- name: mesh-tls
  mountPath: /etc/dsmesh/tls
  readOnly: true
{{- end }}
{{- if ne .Values.model.source "image" }}
- name: model
  mountPath: {{ .Values.model.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Mutual TLS for the Orleans traffic (silos and gateway): the mounted Secret's certificate, key and CA. */}}
{{- define "deepseekmesh.tlsArgs" -}}
{{- if .Values.tls.enabled }}
- --tls-cert
- /etc/dsmesh/tls/tls.crt
- --tls-key
- /etc/dsmesh/tls/tls.key
- --tls-ca
- /etc/dsmesh/tls/ca.crt
{{- end }}
{{- end }}

{{/* --model (and --model-id) as container args. */}}
{{- define "deepseekmesh.modelArgs" -}}
- --model
- {{ include "deepseekmesh.modelDir" . | quote }}
{{- with .Values.model.id }}
- --model-id
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the chart's API keys. */}}
{{- define "deepseekmesh.apiKeySecret" -}}
{{- default (printf "%s-api-keys" (include "deepseekmesh.fullname" .)) .Values.gateway.existingSecret }}
{{- end }}

{{/* Secret keys holding one API key each ([] = open API). */}}
{{- define "deepseekmesh.apiKeyNames" -}}
{{- if .Values.gateway.existingSecret }}
{{- toJson .Values.gateway.existingSecretKeys }}
{{- else }}
{{- $names := list }}
{{- range $i, $_ := .Values.gateway.apiKeys }}
{{- $names = append $names (printf "api-key-%d" $i) }}
{{- end }}
{{- toJson $names }}
{{- end }}
{{- end }}

{{/*
One silo Deployment: (dict "root" $ "role" "frontend"|"expert" "name" <object name suffix>
"component" <component label> "pool" <values of the frontend or of one expert pool> "extraLabels" <dict>).
*/}}
{{- define "deepseekmesh.siloDeployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $pool := .pool -}}
{{- $gpu := eq (include "deepseekmesh.requestsGpu" (dict "root" $root "pool" $pool)) "true" -}}
{{- $device := $pool.device | default (ternary $v.gpu.device "cpu" $gpu) -}}
{{- $threads := $pool.threads | default (ternary $v.gpu.threads 0 $gpu) -}}
{{- $selector := merge (dict) .extraLabels (fromYaml (include "deepseekmesh.selectorLabels" (dict "root" $root "component" .component))) -}}
{{- $extra := merge (dict "app.kubernetes.io/component" .component) .extraLabels -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-%s" (include "deepseekmesh.fullname" $root) .name }}
  labels:
    {{- include "deepseekmesh.labels" $root | nindent 4 }}
    {{- toYaml $extra | nindent 4 }}
spec:
  {{- if not (and $pool.autoscaling $pool.autoscaling.enabled) }}
  replicas: {{ $pool.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
  {{- with $pool.strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "deepseekmesh.labels" $root | nindent 8 }}
        {{- toYaml $extra | nindent 8 }}
        deepseekmesh.io/silo: "true"
        # Orleans' Kubernetes agent finds the cluster's pods by these two labels.
        orleans/serviceId: {{ $v.orleans.serviceId | quote }}
        orleans/clusterId: {{ include "deepseekmesh.clusterId" $root | quote }}
      {{- if or $pool.podAnnotations (and $v.metrics.enabled $v.metrics.scrapeAnnotations $v.metrics.siloPort) }}
      annotations:
        {{- with $pool.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- if and $v.metrics.enabled $v.metrics.scrapeAnnotations $v.metrics.siloPort }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.metrics.siloPort | quote }}
        prometheus.io/path: {{ $v.metrics.path | quote }}
        {{- end }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "deepseekmesh.serviceAccountName" $root }}
      automountServiceAccountToken: true
      {{- if eq .role "expert" }}
      {{- /* an expert silo drains on SIGTERM (its experts move away first): the grace period covers the drain and the silo's own shutdown */}}
      terminationGracePeriodSeconds: {{ max $v.siloTerminationGracePeriodSeconds (add (int (default 30 $pool.drainTimeoutSeconds)) 30) }}
      {{- else }}
      terminationGracePeriodSeconds: {{ $v.siloTerminationGracePeriodSeconds }}
      {{- end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      containers:
        - name: silo
          image: {{ include "deepseekmesh.image" (dict "root" $root "gpu" $gpu) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args:
            - silo
            - --role
            - {{ .role }}
            {{- include "deepseekmesh.modelArgs" $root | nindent 12 }}
            {{- include "deepseekmesh.tlsArgs" $root | nindent 12 }}
            - --address
            - $(POD_IP)
            - --silo-port
            - {{ $v.orleans.siloPort | quote }}
            {{- if ne .role "expert" }}
            - --gateway-port
            - {{ $v.orleans.gatewayPort | quote }}
            {{- end }}
            - --redis
            - $(DSMESH_REDIS)
            - --cluster-id
            - {{ include "deepseekmesh.clusterId" $root | quote }}
            {{- with $v.model.weights }}
            - --weights
            - {{ . | quote }}
            {{- end }}
            {{- if and (eq .role "frontend") $pool.wire }}
            - --wire
            - {{ $pool.wire | quote }}
            {{- end }}
            - --device
            - {{ $device | quote }}
            {{- with $pool.compute }}
            - --compute
            - {{ . | quote }}
            {{- end }}
            {{- if $threads }}
            - --threads
            - {{ $threads | quote }}
            {{- end }}
            {{- if eq .role "expert" }}
            - --drain-timeout
            - {{ default 30 $pool.drainTimeoutSeconds | quote }}
            {{- if not (kindIs "invalid" $pool.expertCapacity) }}
            - --expert-capacity
            - {{ $pool.expertCapacity | quote }}
            {{- end }}
            {{- end }}
            {{- with $pool.extraArgs }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: POD_IP
              valueFrom:
                fieldRef:
                  fieldPath: status.podIP
            - name: ORLEANS_SERVICE_ID
              value: {{ $v.orleans.serviceId | quote }}
            - name: ORLEANS_CLUSTER_ID
              value: {{ include "deepseekmesh.clusterId" $root | quote }}
            {{- include "deepseekmesh.redisEnv" $root | nindent 12 }}
            {{- if and $v.metrics.enabled $v.metrics.siloPort }}
            # ServiceDefaults: a side HTTP port with /health, /alive and the Prometheus endpoint.
            - name: Management__Port
              value: {{ $v.metrics.siloPort | quote }}
            - name: Management__Address
              value: "0.0.0.0"
            - name: Telemetry__Prometheus
              value: "true"
            {{- end }}
            {{- if $gpu }}
            # GPU pods: the device plugin sets NVIDIA_VISIBLE_DEVICES to the GPUs it granted (never
            # "all" here: that would hand every GPU of the node to every pod); the driver's compute
            # libraries are mounted; libtorch's OpenMP threads sleep instead of spinning next to the GPU.
            {{- range $name, $value := $v.gpu.env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
            {{- end }}
            {{- with $pool.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: silo
              containerPort: {{ $v.orleans.siloPort }}
              protocol: TCP
            {{- if ne .role "expert" }}
            - name: orleans-gw
              containerPort: {{ $v.orleans.gatewayPort }}
              protocol: TCP
            {{- end }}
            {{- if and $v.metrics.enabled $v.metrics.siloPort }}
            - name: metrics
              containerPort: {{ $v.metrics.siloPort }}
              protocol: TCP
            {{- end }}
          # No HTTP listener in silos: TCP probes. The silo port opens while the silo starts; a
          # frontend's client gateway port (what the gateway pods connect to) once it has joined.
          # Expert silos open no client gateway (clients only reach frontends): ready on the silo port.
          startupProbe:
            tcpSocket:
              port: silo
            {{- toYaml $v.siloProbes.startup | nindent 12 }}
          livenessProbe:
            tcpSocket:
              port: silo
            {{- toYaml $v.siloProbes.liveness | nindent 12 }}
          readinessProbe:
            tcpSocket:
              port: {{ if eq .role "expert" }}silo{{ else }}orleans-gw{{ end }}
            {{- toYaml $v.siloProbes.readiness | nindent 12 }}
          resources:
            {{- toYaml $pool.resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "deepseekmesh.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "deepseekmesh.volumes" $root | nindent 8 }}
      {{- with $pool.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $pool.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $pool.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
