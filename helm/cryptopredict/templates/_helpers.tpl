{{/* Names and labels shared by every template. */}}
{{- define "cryptopredict.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cryptopredict.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of one component: (list $ "auth"). */}}
{{- define "cryptopredict.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "cryptopredict.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "cryptopredict.labels" -}}
{{- $root := index . 0 -}}
{{ include "cryptopredict.selectorLabels" . }}
app.kubernetes.io/part-of: cryptopredict
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* A catalog service's values: defaults, then the generated catalog entry, then overrides. */}}
{{- define "cryptopredict.serviceValues" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $catalog := index $root.Values.catalogServices $name -}}
{{- $override := default (dict) (index $root.Values.services $name) -}}
{{- mergeOverwrite (deepCopy $root.Values.defaults) (deepCopy $catalog) (deepCopy $override) | toYaml -}}
{{- end -}}

{{/* An image reference: (list $ .image). */}}
{{- define "cryptopredict.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $tag := $image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion -}}
{{- if $root.Values.image.registry -}}
{{- printf "%s/%s:%s" $root.Values.image.registry $image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Environment every application container gets: infrastructure from Secrets, peers, runtime. */}}
{{- define "cryptopredict.infraEnv" -}}
{{- $root := . -}}
{{- $infra := $root.Values.infrastructure -}}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ $infra.postgres.existingSecret }}, key: {{ $infra.postgres.urlKey }}}}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ $infra.redis.existingSecret }}, key: {{ $infra.redis.urlKey }}}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "cryptopredict.kafkaBootstrap" $root | quote }}
- name: KAFKA_ENABLE_IDEMPOTENCE
  value: {{ $infra.kafka.enableIdempotence | quote }}
- name: ENVIRONMENT
  value: {{ $root.Values.environment | quote }}
- name: LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
- name: CP_STATE_DIR
  value: /tmp/state
- name: PYTHONUNBUFFERED
  value: "1"
{{- end -}}

{{- define "cryptopredict.kafkaBootstrap" -}}
{{- if .Values.kafka.enabled -}}
{{- printf "%s-kafka:%v" .Release.Name .Values.kafka.port -}}
{{- else -}}
{{- .Values.infrastructure.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{/* The bundled subchart of a server when its switch is on, else empty: (list $ "postgres"). */}}
{{- define "cryptopredict.bundledChart" -}}
{{- $root := index . 0 -}}
{{- $chart := get (dict "postgres" "postgresql" "redis" "redis" "kafka" "kafka") (index . 1) -}}
{{- if (index $root.Values $chart).enabled -}}
{{- $chart -}}
{{- end -}}
{{- end -}}

{{/* The port the services reach a server on: the bundled subchart's or the external one. */}}
{{- define "cryptopredict.infraPort" -}}
{{- $root := index . 0 -}}
{{- $chart := include "cryptopredict.bundledChart" . -}}
{{- if $chart -}}
{{- (index $root.Values $chart).port -}}
{{- else -}}
{{- (index $root.Values.infrastructure (index . 1)).port -}}
{{- end -}}
{{- end -}}

{{/* The labels the subcharts give their server pods: (list $ "postgresql"). */}}
{{- define "cryptopredict.bundledSelectorLabels" -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* <PREFIX>_HTTP_URL / _GRPC_TARGET of every catalog service, like the local fleet's. */}}
{{- define "cryptopredict.peerEnv" -}}
{{- $root := . -}}
{{- $fullname := include "cryptopredict.fullname" $root -}}
- name: GATEWAY_URL
  value: {{ printf "http://%s-gateway:%v" $fullname $root.Values.gateway.service.port | quote }}
{{- range $name, $peer := $root.Values.catalogServices }}
- name: {{ $peer.envPrefix }}_HTTP_URL
  value: {{ printf "http://%s-%s:%v" $fullname $name $peer.httpPort | quote }}
{{- if $peer.grpcPort }}
- name: {{ $peer.envPrefix }}_GRPC_TARGET
  value: {{ printf "%s-%s:%v" $fullname $name $peer.grpcPort | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "cryptopredict.podSecurityContext" -}}
{{ toYaml .Values.podSecurityContext }}
{{- end -}}

{{/* Egress to one infrastructure server: (list $ "postgres"); the bundled pods or externalPeers. */}}
{{- define "cryptopredict.infraEgress" -}}
{{- $root := index . 0 -}}
{{- $chart := include "cryptopredict.bundledChart" . -}}
- to:
  {{- if $chart }}
    - podSelector:
        matchLabels: {{- include "cryptopredict.bundledSelectorLabels" (list $root $chart) | nindent 10 }}
  {{- else }}
  {{- toYaml $root.Values.infrastructure.externalPeers | nindent 4 }}
  {{- end }}
  ports:
    - {protocol: TCP, port: {{ include "cryptopredict.infraPort" . }}}
{{- end -}}
