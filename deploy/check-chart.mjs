// Validates the manifests deploy/check-chart.sh rendered from helm/deepseekmesh against the
// Kubernetes schemas (kubernetes-models) and asserts what the schemas cannot: that the container
// args are ones `dsmesh` accepts (read from the C# sources), that expert pools are independent
// Deployments with GPU requests in values-gpu.yaml, that silos get the RBAC Orleans' Kubernetes
// hosting needs, that probes hit real endpoints, NetworkPolicies, PDBs, security settings.
//
//   node deploy/check-chart.mjs REPO_ROOT RENDER_DIR     (DSMESH_NODE_MODULES: kubernetes-models, js-yaml)
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

const [root, renders] = process.argv.slice(2);
const modules = process.env.DSMESH_NODE_MODULES;
if (!root || !renders || !modules) throw new Error("usage: DSMESH_NODE_MODULES=DIR node check-chart.mjs REPO_ROOT RENDER_DIR");
const yaml = (await import(pathToFileURL(join(modules, "js-yaml", "dist", "js-yaml.mjs")))).default;

let failures = 0, checks = 0;
function check(condition, message) {
  checks++;
  if (!condition) { failures++; console.error(`  FAIL ${message}`); }
}

// ---- What the binary really accepts, read from its sources ------------------------------------
const src = (p) => readFileSync(join(root, p), "utf8");
function optionsIn(text) {
  const names = new Set();
  for (const line of text.split("\n"))
    if (line.includes("Option<")) { const m = line.match(/"(--[a-z0-9-]+)"/); if (m) names.add(m[1]); }
  return names;
}
function classBody(text, name) {
  const start = text.search(new RegExp(`class ${name}\\b`));
  if (start < 0) throw new Error(`class ${name} not found`);
  const next = text.slice(start + 6).search(/\n(?:public |internal )?(?:static |sealed )*class /);
  return next < 0 ? text.slice(start) : text.slice(start, start + 6 + next);
}
const gatewaySource = src("src/DeepSeekMesh.Cli/Commands/GatewayCommand.cs") + src("src/DeepSeekMesh.Cli/Commands/GatewayCliOptions.cs");
const accepted = {
  // the silo verb's own options plus the ComputeOptions group it adds (--weights, --threads, --device)
  silo: new Set([...optionsIn(src("src/DeepSeekMesh.Cli/Commands/TlsCliOptions.cs")), ...optionsIn(src("src/DeepSeekMesh.Cli/Commands/SiloCommand.cs")), ...optionsIn(src("src/DeepSeekMesh.Silo/ComputeOptions.cs"))]),
  gateway: new Set([...optionsIn(src("src/DeepSeekMesh.Cli/Commands/TlsCliOptions.cs")), ...optionsIn(classBody(gatewaySource, "GatewayCommand")), ...optionsIn(classBody(gatewaySource, "GatewayCliOptions"))]),
};
const program = src("src/DeepSeekMesh.Cli/Program.cs");
check(program.includes("SiloCommand.Create()") && program.includes("GatewayCommand.Create()"), "dsmesh registers the silo and gateway verbs (src/DeepSeekMesh.Cli/Program.cs)");
const roles = new Set([...src("src/DeepSeekMesh.Silo/SiloRole.cs").matchAll(/"([a-z]+)"/g)].map((m) => m[1]));
const gatewayHost = src("src/DeepSeekMesh.Gateway/GatewayHost.cs");
const getPaths = new Set([...gatewayHost.matchAll(/app\.MapGet\("([^"{]+)"/g)].map((m) => m[1]));
const gatewayServiceId = (src("src/DeepSeekMesh.Cli/Hosting/ClusterClientSettings.cs").match(/ServiceId \{ get; init; \} = "([^"]+)"/) || [])[1];
const gatewayOptions = src("src/DeepSeekMesh.Gateway/GatewayOptions.cs");
const configSection = (gatewayOptions.match(/const string Section = "([^"]+)"/) || [])[1];
const configKeys = new Set([...gatewayOptions.matchAll(/public [\w<>]+ (\w+) \{ get; set; \}/g)].map((m) => m[1]));
check(accepted.silo.has("--redis") && accepted.gateway.has("--redis") && getPaths.has("/health/ready"), "sources parsed (options, health endpoints)");

// ---- Schema validation ------------------------------------------------------------------------
const notInKubernetesModels = new Set(["monitoring.coreos.com/v1/ServiceMonitor"]);
async function validate(doc, where) {
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : [null, doc.apiVersion];
  const file = join(modules, "kubernetes-models", ...(group ? [group, version] : [version]), `${doc.kind}.js`);
  if (!existsSync(file)) {
    check(notInKubernetesModels.has(`${doc.apiVersion}/${doc.kind}`), `${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
    return;
  }
  const Model = (await import(pathToFileURL(file)))[doc.kind];
  try { new Model(doc).validate(); check(true, ""); }
  catch (e) { check(false, `${where}: ${doc.kind}/${doc.metadata?.name} is not a valid ${doc.apiVersion} ${doc.kind}: ${e.message}`); }
}

// ---- Helpers over one render ------------------------------------------------------------------
function load(name) {
  const docs = yaml.loadAll(readFileSync(join(renders, `${name}.yaml`), "utf8")).filter((d) => d); // duplicate keys throw
  return docs;
}
const of = (docs, kind) => docs.filter((d) => d.kind === kind);
const component = (d) => d.spec?.template?.metadata?.labels?.["app.kubernetes.io/component"];
const matches = (selector, labels) => Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);
function argValue(args, option) { const i = args.indexOf(option); return i < 0 ? undefined : args[i + 1]; }
const envOf = (c) => Object.fromEntries((c.env || []).map((e) => [e.name, e]));

function checkArgs(where, verb, c) {
  const args = c.args || [];
  check(args[0] === verb, `${where}: first arg is the verb '${verb}' (got ${args[0]})`);
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) { check(false, `${where}: stray arg '${a}'`); continue; }
    check(accepted[verb].has(a), `${where}: 'dsmesh ${verb}' does not accept ${a} (accepts ${[...accepted[verb]].join(" ")})`);
    check(i + 1 < args.length && !args[i + 1].startsWith("--"), `${where}: ${a} needs a value`);
    i++;
  }
  check(args.includes("--model"), `${where}: --model given`);
  const env = envOf(c);
  for (const a of args) for (const m of a.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
    check(env[m[1]] !== undefined, `${where}: $(${m[1]}) in args but not in env`);
}

function checkPodSecurity(where, spec) {
  check(spec.securityContext?.runAsNonRoot === true, `${where}: pod runAsNonRoot`);
  for (const c of spec.containers) {
    check(c.securityContext?.readOnlyRootFilesystem === true, `${where}/${c.name}: readOnlyRootFilesystem`);
    check(c.securityContext?.allowPrivilegeEscalation === false, `${where}/${c.name}: no privilege escalation`);
  }
}

function checkModelAndTmp(where, spec, c, values) {
  const volumes = Object.fromEntries((spec.volumes || []).map((v) => [v.name, v]));
  const mounts = c.volumeMounts || [];
  const tmp = mounts.find((m) => m.mountPath === "/tmp");
  check(tmp && volumes[tmp.name]?.emptyDir, `${where}: /tmp is an emptyDir (read-only root filesystem)`);
  const model = argValue(c.args, "--model");
  if (values.baked) {
    check(model.startsWith("/opt/dsmesh/model"), `${where}: --model ${model} is the baked-in directory`);
    check(!mounts.some((m) => m.name === "model"), `${where}: no model volume when baked into the image`);
    return;
  }
  const m = mounts.find((m) => model === m.mountPath || model.startsWith(m.mountPath.replace(/\/$/, "") + "/"));
  check(m && m.readOnly === true, `${where}: --model ${model} is on a read-only mount`);
  const v = m && volumes[m.name];
  check(v && (v.persistentVolumeClaim?.readOnly === true || v.hostPath), `${where}: the model volume is a read-only PVC or a hostPath`);
}

// A pod that requests GPUs computes on them: --device cuda (or what the values override it with),
// the CUDA image, a small --threads, OMP threads that sleep; every other pod: --device cpu, the
// CPU image. NVIDIA_VISIBLE_DEVICES is the device plugin's alone (it names the granted GPUs).
const requestsGpu = (c) => ["limits", "requests"].some((k) => Number(c.resources?.[k]?.["nvidia.com/gpu"] ?? 0) > 0);
function checkDevice(where, c, expect) {
  const gpu = requestsGpu(c), env = envOf(c), device = argValue(c.args, "--device");
  const wanted = expect.devices?.[where.split("/").pop()] ?? (gpu ? "cuda" : "cpu");
  check(device === wanted, `${where}: --device ${device} (expected ${wanted}: ${gpu ? "requests" : "does not request"} nvidia.com/gpu)`);
  check(gpu === c.image.endsWith("-cuda"), `${where}: image ${c.image} ${gpu ? "is" : "is not"} the CUDA variant`);
  const threads = Number(argValue(c.args, "--threads"));
  if (gpu) {
    check(threads >= 1 && threads <= (expect.maxGpuThreads ?? 4), `${where}: a GPU pod runs few CPU threads (--threads ${argValue(c.args, "--threads")})`);
    check(env.OMP_WAIT_POLICY?.value === "PASSIVE", `${where}: OMP_WAIT_POLICY=PASSIVE on a GPU pod`);
    check(/\bcompute\b/.test(env.NVIDIA_DRIVER_CAPABILITIES?.value ?? ""), `${where}: NVIDIA_DRIVER_CAPABILITIES includes compute on a GPU pod`);
  } else {
    check(env.NVIDIA_DRIVER_CAPABILITIES === undefined && env.OMP_WAIT_POLICY === undefined, `${where}: no GPU env on a pod without GPUs`);
  }
  const weights = argValue(c.args, "--weights");
  check(weights === expect.weights, `${where}: --weights ${weights} (expected ${expect.weights}: absent = auto)`);
  const compute = argValue(c.args, "--compute");
  check(compute === expect.computes?.[where.split("/").pop()], `${where}: --compute ${compute} (expected ${expect.computes?.[where.split("/").pop()]}: absent = the binary's default, bf16 on CUDA)`);
}
function checkNoVisibleDevices(name, docs) {
  for (const d of docs) for (const c of [...(d.spec?.template?.spec?.containers ?? []), ...(d.spec?.containers ?? [])])
    check(envOf(c).NVIDIA_VISIBLE_DEVICES === undefined, `${name}/${d.metadata.name}/${c.name}: sets NVIDIA_VISIBLE_DEVICES (the device plugin's job)`);
}

// ---- One render -------------------------------------------------------------------------------
async function checkRender(name, expect) {
  const failuresBefore = failures;
  const docs = load(name);
  for (const d of docs) await validate(d, name);
  checkNoVisibleDevices(name, docs);
  const deployments = of(docs, "Deployment");
  const gateway = deployments.find((d) => component(d) === "gateway");
  const frontends = deployments.filter((d) => component(d) === "frontend");
  const experts = deployments.filter((d) => component(d) === "expert");
  check(gateway && frontends.length === 1 && experts.length >= (expect.pools ?? 1), `${name}: gateway, frontend and ${expect.pools ?? 1}+ expert pool Deployments`);
  if (!gateway || !frontends.length || !experts.length) return;
  const silos = [...frontends, ...experts];

  // Deployments are independent: no selector picks another Deployment's pods.
  for (const a of deployments) for (const b of deployments)
    if (a !== b) check(!matches(a.spec.selector.matchLabels, b.spec.template.metadata.labels), `${name}: ${a.metadata.name}'s selector also selects ${b.metadata.name}'s pods`);
  check(new Set(experts.map((d) => d.spec.template.metadata.labels["deepseekmesh.io/pool"])).size === experts.length, `${name}: one pool label per expert Deployment`);

  // Silos: args dsmesh accepts, Orleans identity, Kubernetes hosting env, RBAC, probes.
  const roles_ = of(docs, "Role"), bindings = of(docs, "RoleBinding");
  const clusterId = argValue(gateway.spec.template.spec.containers[0].args, "--cluster-id");
  for (const d of silos) {
    const where = `${name}/${d.metadata.name}`;
    const spec = d.spec.template.spec, labels = d.spec.template.metadata.labels;
    const c = spec.containers[0], env = envOf(c);
    checkArgs(where, "silo", c);
    const role = argValue(c.args, "--role");
    check(roles.has(role) && role === component(d), `${where}: --role ${role} is a dsmesh role matching the component label`);
    check(argValue(c.args, "--address") === "$(POD_IP)", `${where}: --address $(POD_IP) (each pod advertises its own IP)`);
    check(argValue(c.args, "--redis") === "$(DSMESH_REDIS)", `${where}: Redis membership`);
    check(argValue(c.args, "--cluster-id") === clusterId, `${where}: same --cluster-id as the gateway`);
    for (const [n, path] of [["POD_NAME", "metadata.name"], ["POD_NAMESPACE", "metadata.namespace"], ["POD_IP", "status.podIP"]])
      check(env[n]?.valueFrom?.fieldRef?.fieldPath === path, `${where}: env ${n} from ${path}`);
    check(env.ORLEANS_CLUSTER_ID?.value === clusterId && labels["orleans/clusterId"] === clusterId, `${where}: ORLEANS_CLUSTER_ID and label orleans/clusterId = ${clusterId}`);
    check(env.ORLEANS_SERVICE_ID?.value === gatewayServiceId && labels["orleans/serviceId"] === gatewayServiceId, `${where}: ORLEANS_SERVICE_ID and label orleans/serviceId = the gateway's service id ${gatewayServiceId}`);
    check(spec.automountServiceAccountToken !== false, `${where}: service account token mounted (Orleans Kubernetes agent)`);
    const sa = spec.serviceAccountName;
    const bound = bindings.filter((b) => b.subjects?.some((s) => s.kind === "ServiceAccount" && s.name === sa)).map((b) => roles_.find((r) => r.metadata.name === b.roleRef.name));
    const verbs = new Set(bound.flatMap((r) => (r?.rules || []).filter((x) => x.resources?.includes("pods") && x.apiGroups?.includes("")).flatMap((x) => x.verbs)));
    check(["get", "list", "watch", "patch"].every((v) => verbs.has(v)), `${where}: service account ${sa} may get/list/watch/patch pods (has ${[...verbs]})`);
    const ports = Object.fromEntries(c.ports.map((p) => [p.name, p.containerPort]));
    if (role === "expert")
      check(String(ports.silo) === argValue(c.args, "--silo-port") && ports["orleans-gw"] === undefined && argValue(c.args, "--gateway-port") === undefined, `${where}: container port = --silo-port, no client gateway (clients reach frontends only)`);
    else
      check(String(ports.silo) === argValue(c.args, "--silo-port") && String(ports["orleans-gw"]) === argValue(c.args, "--gateway-port"), `${where}: container ports = --silo-port/--gateway-port`);
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"])
      check(c[probe]?.tcpSocket && ports[c[probe].tcpSocket.port] !== undefined, `${where}: ${probe} is a TCP probe on a declared port`);
    check(c.readinessProbe?.tcpSocket?.port === (role === "expert" ? "silo" : "orleans-gw"), `${where}: ready when the ${role === "expert" ? "silo" : "Orleans client gateway"} port accepts`);
    checkPodSecurity(where, spec);
    checkModelAndTmp(where, spec, c, expect);
    checkDevice(where, c, expect);
    if (role === "expert") {
      // SIGTERM drains an expert silo (its experts move away first): the grace period must cover the drain and the shutdown after it.
      const drain = Number(argValue(c.args, "--drain-timeout"));
      check(drain >= 0, `${where}: --drain-timeout given`);
      check(spec.terminationGracePeriodSeconds >= drain + 30, `${where}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} >= --drain-timeout ${drain} + 30`);
    }
  }
  if (expect.gpu) for (const d of experts) {
    const where = `${name}/${d.metadata.name}`, spec = d.spec.template.spec, r = spec.containers[0].resources || {};
    check(Number(r.limits?.["nvidia.com/gpu"]) >= 1 && Number(r.requests?.["nvidia.com/gpu"] ?? r.limits?.["nvidia.com/gpu"]) >= 1, `${where}: requests nvidia.com/gpu`);
    check(spec.tolerations?.some((t) => t.key === "nvidia.com/gpu"), `${where}: tolerates the nvidia.com/gpu taint`);
    check(Object.keys(spec.nodeSelector || {}).length > 0, `${where}: has a nodeSelector for its GPU nodes`);
  }

  // HPAs scale exactly one Deployment, which then has no replicas of its own.
  for (const h of of(docs, "HorizontalPodAutoscaler")) {
    const target = deployments.find((d) => d.metadata.name === h.spec.scaleTargetRef.name);
    check(target && h.spec.scaleTargetRef.kind === "Deployment", `${name}: HPA ${h.metadata.name} targets a Deployment of this release`);
    check(target && target.spec.replicas === undefined, `${name}: ${h.metadata.name}'s Deployment leaves replicas to the HPA`);
  }
  // PDBs: one per Deployment, selecting only its pods.
  for (const d of deployments) {
    const pdbs = of(docs, "PodDisruptionBudget").filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
    check(pdbs.length === 1, `${name}: one PodDisruptionBudget for ${d.metadata.name} (found ${pdbs.length})`);
    for (const p of pdbs) for (const o of deployments)
      if (o !== d) check(!matches(p.spec.selector.matchLabels, o.spec.template.metadata.labels), `${name}: PDB ${p.metadata.name} also selects ${o.metadata.name}`);
  }

  // Gateway: args, probes on real endpoints, API keys, metrics.
  {
    const where = `${name}/${gateway.metadata.name}`, spec = gateway.spec.template.spec, c = spec.containers[0], env = envOf(c);
    checkArgs(where, "gateway", c);
    check(argValue(c.args, "--host") === "0.0.0.0", `${where}: listens on all addresses`);
    const http = c.ports.find((p) => p.name === "http");
    check(http && String(http.containerPort) === argValue(c.args, "--port"), `${where}: containerPort http = --port`);
    check(argValue(c.args, "--redis") === "$(DSMESH_REDIS)", `${where}: Redis membership`);
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"])
      check(getPaths.has(c[probe]?.httpGet?.path) && c[probe].httpGet.port === "http", `${where}: ${probe} GET ${c[probe]?.httpGet?.path} is an endpoint the gateway maps`);
    check(c.readinessProbe?.httpGet?.path === "/health/ready" && c.livenessProbe?.httpGet?.path === "/health", `${where}: liveness /health, readiness /health/ready`);
    for (const e of c.env || []) {
      const m = e.name.match(/^(Gateway)__([A-Za-z]+)(__\d+)?$/);
      if (m) check(m[1] === configSection && configKeys.has(m[2]), `${where}: env ${e.name} binds a GatewayOptions property`);
    }
    const keys = (c.env || []).filter((e) => e.name.startsWith("Gateway__ApiKeys__"));
    check(keys.length === (expect.apiKeys ?? 0) && keys.every((k) => k.valueFrom?.secretKeyRef), `${where}: ${expect.apiKeys ?? 0} API keys, from a Secret`);
    for (const k of keys) {
      const ref = k.valueFrom.secretKeyRef, secret = of(docs, "Secret").find((s) => s.metadata.name === ref.name);
      check(secret && (secret.stringData?.[ref.key] ?? secret.data?.[ref.key]) !== undefined, `${where}: ${k.name} refers to a key of a rendered Secret`);
    }
    const a = gateway.spec.template.metadata.annotations || {};
    check(a["prometheus.io/scrape"] === "true" && a["prometheus.io/path"] === "/metrics" && a["prometheus.io/port"] === String(http?.containerPort), `${where}: Prometheus scrape annotations for /metrics on the HTTP port`);
    checkPodSecurity(where, spec);
    checkModelAndTmp(where, spec, c, expect);
  }

  // Only the gateway is exposed: Services, Ingress, NetworkPolicies.
  for (const s of of(docs, "Service")) {
    const isGateway = matches(s.spec.selector, gateway.spec.template.metadata.labels);
    const isRedis = s.spec.selector["app.kubernetes.io/component"] === "redis";
    check(isGateway || (isRedis && (s.spec.type ?? "ClusterIP") === "ClusterIP"), `${name}: Service ${s.metadata.name} exposes only the gateway (or in-cluster Redis)`);
    check(!silos.some((d) => matches(s.spec.selector, d.spec.template.metadata.labels)), `${name}: no Service in front of silos`);
  }
  for (const i of of(docs, "Ingress"))
    for (const r of i.spec.rules) for (const p of r.http.paths)
      check(p.backend.service.name === gateway.metadata.name + "" && of(docs, "Service").some((s) => s.metadata.name === p.backend.service.name), `${name}: Ingress routes to the gateway Service`);
  const policies = of(docs, "NetworkPolicy");
  if (expect.networkPolicy !== false) {
    const frontendArgs = silos.map((d) => d.spec.template.spec.containers[0].args).find((a) => argValue(a, "--gateway-port") !== undefined) ?? [];
    const siloPorts = new Set([Number(argValue(silos[0].spec.template.spec.containers[0].args, "--silo-port")), Number(argValue(frontendArgs, "--gateway-port"))]);
    for (const d of silos) {
      const ps = policies.filter((p) => matches(p.spec.podSelector.matchLabels, d.spec.template.metadata.labels));
      check(ps.length > 0, `${name}: a NetworkPolicy covers ${d.metadata.name}`);
      for (const p of ps) for (const rule of p.spec.ingress || []) {
        check(rule.from?.length > 0 && rule.from.every((f) => f.podSelector), `${name}: ${p.metadata.name}: silo ingress only from pods of this release`);
        for (const port of rule.ports || []) check(siloPorts.has(port.port), `${name}: ${p.metadata.name}: silo port ${port.port} is the silo or gateway port`);
        for (const f of rule.from || []) {
          const fromGateway = matches(f.podSelector.matchLabels, gateway.spec.template.metadata.labels);
          const fromSilo = silos.some((s) => matches(f.podSelector.matchLabels, s.spec.template.metadata.labels));
          check(fromGateway || fromSilo, `${name}: ${p.metadata.name}: ingress from silos or the gateway only`);
        }
      }
    }
    const gp = policies.filter((p) => matches(p.spec.podSelector.matchLabels, gateway.spec.template.metadata.labels));
    const http = gateway.spec.template.spec.containers[0].ports.find((p) => p.name === "http").containerPort;
    check(gp.length > 0 && gp.every((p) => p.spec.ingress.every((r) => r.ports.length === 1 && r.ports[0].port === http)), `${name}: the gateway accepts its HTTP port only`);
  } else {
    check(policies.length === 0, `${name}: networkPolicy.enabled=false renders no NetworkPolicy`);
  }

  // helm test: curls /health/ready and /v1/models through the gateway Service.
  const tests = of(docs, "Pod").filter((p) => p.metadata.annotations?.["helm.sh/hook"] === "test");
  const script = JSON.stringify(tests.map((p) => [p.spec.containers[0].command, p.spec.containers[0].args]));
  check(tests.length === 1 && script.includes("/health/ready") && script.includes("/v1/models") && getPaths.has("/v1/models"), `${name}: a helm test pod curls /health/ready and /v1/models`);
  if (expect.apiKeys) check(tests[0]?.spec.containers[0].env?.some((e) => e.name === "API_KEY" && e.valueFrom?.secretKeyRef), `${name}: the test pod authenticates with an API key from the Secret`);
  check(!!of(docs, "StatefulSet").find((s) => s.spec.template.metadata.labels["app.kubernetes.io/component"] === "redis") === (expect.redis !== false), `${name}: bundled Redis ${expect.redis !== false ? "present" : "absent"}`);

  console.error(`  ${name}: ${docs.length} manifests, ${failures === failuresBefore ? "ok" : "FAILED"}`);
  return docs;
}

// Scaling one pool changes that pool's Deployment replicas and nothing else.
function checkScaled(base, scaled, deploymentSuffix, replicas) {
  const a = load(base), b = load(scaled);
  check(a.length === b.length, `${scaled}: same number of manifests as ${base}`);
  const changed = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (!isDeepStrictEqual(a[i], b[i])) changed.push(i);
  const only = changed.length === 1 && b[changed[0]].kind === "Deployment" && b[changed[0]].metadata.name.endsWith(deploymentSuffix);
  check(only, `${scaled}: scaling ${deploymentSuffix} changed only its Deployment (changed: ${changed.map((i) => `${b[i].kind}/${b[i].metadata.name}`)})`);
  if (only) {
    const x = structuredClone(a[changed[0]]); x.spec.replicas = replicas;
    check(isDeepStrictEqual(x, b[changed[0]]), `${scaled}: only spec.replicas of ${deploymentSuffix} changed, to ${replicas}`);
  }
}

console.error("check-chart: validating rendered manifests");
await checkRender("default", {});
await checkRender("gpu", { gpu: true, pools: 2, weights: "bf16" });
// The frontend alone on a GPU (default values otherwise): only it changes device, image and env.
await checkRender("gpu-frontend", {});
// Overrides win: a pool pinned to another GPU, another pool with more threads and f32 compute.
await checkRender("gpu-overrides", { gpu: true, pools: 2, maxGpuThreads: 6, weights: "bf16",
  devices: { "dsm-deepseekmesh-expert-h100": "cuda:1" }, computes: { "dsm-deepseekmesh-expert-l40s": "f32" } });
{
  const gpuFrontend = load("gpu-frontend").filter((d) => d.kind === "Deployment" && component(d) === "frontend");
  check(gpuFrontend.length === 1 && requestsGpu(gpuFrontend[0].spec.template.spec.containers[0]), "gpu-frontend: the frontend requests a GPU");
  // The image itself no longer hands every GPU to every container.
  const dockerfile = src("deploy/Dockerfile");
  check(!/^\s*(ENV|ARG)?[^#\n]*NVIDIA_VISIBLE_DEVICES=/m.test(dockerfile), "deploy/Dockerfile: no NVIDIA_VISIBLE_DEVICES baked into the image");
  check(/libtorch_cuda\.so/.test(dockerfile), "deploy/Dockerfile: the CUDA build checks for libtorch_cuda.so, not only libLibTorchSharp.so");
}
await checkRender("keys", { apiKeys: 2 });
{
  // Silo metrics on the ServiceDefaults management port, when asked for.
  const docs = load("silo-metrics");
  for (const d of of(docs, "Deployment").filter((d) => d.spec.template.metadata.labels["deepseekmesh.io/silo"] === "true")) {
    const c = d.spec.template.spec.containers[0], env = envOf(c), a = d.spec.template.metadata.annotations || {};
    check(env.Management__Port?.value === "9464" && c.ports.some((p) => p.name === "metrics" && p.containerPort === 9464), `silo-metrics/${d.metadata.name}: management port 9464 declared and configured`);
    check(a["prometheus.io/port"] === "9464" && a["prometheus.io/path"] === "/metrics", `silo-metrics/${d.metadata.name}: scrape annotations`);
  }
}
const ext = await checkRender("external-redis", { redis: false });
{
  const g = of(ext, "Deployment").find((d) => component(d) === "gateway").spec.template.spec.containers[0];
  check(envOf(g).DSMESH_REDIS?.valueFrom?.secretKeyRef?.name === "redis-conn", "external-redis: connection string from the existing Secret");
  check(argValue(g.args, "--model") === "/models/DeepSeek-V3", "external-redis: --model is mountPath/subPath");
}
await checkRender("baked", { baked: true, networkPolicy: false });
{
  // Mutual TLS: every silo and the gateway mount the Secret and pass its three files; off by default.
  const docs = load("tls");
  const pods = of(docs, "Deployment").filter((d) => ["gateway", "frontend", "expert"].includes(component(d)));
  check(pods.length >= 3, "tls: gateway, frontend and expert Deployments rendered");
  for (const verb of ["silo", "gateway"])
    check(["--tls-cert", "--tls-key", "--tls-ca"].every((o) => accepted[verb].has(o)), `dsmesh ${verb} accepts --tls-cert/--tls-key/--tls-ca`);
  for (const d of pods) {
    const where = `tls/${d.metadata.name}`, spec = d.spec.template.spec, c = spec.containers[0];
    const volume = (spec.volumes || []).find((v) => v.secret?.secretName === "mesh-tls");
    check(volume !== undefined, `${where}: mounts the Secret mesh-tls`);
    const mount = (c.volumeMounts || []).find((m) => m.name === volume?.name);
    check(mount?.readOnly === true && mount.mountPath === "/etc/dsmesh/tls", `${where}: at /etc/dsmesh/tls, read-only`);
    for (const [option, file] of [["--tls-cert", "tls.crt"], ["--tls-key", "tls.key"], ["--tls-ca", "ca.crt"]])
      check(argValue(c.args, option) === `/etc/dsmesh/tls/${file}`, `${where}: ${option} /etc/dsmesh/tls/${file}`);
  }
  for (const d of of(load("default"), "Deployment"))
    check(!(d.spec.template.spec.containers[0].args || []).includes("--tls-cert"), `default/${d.metadata.name}: no TLS unless asked`);
}
{
  // Expert capacity and a long drain reach the expert pod (and only it).
  const docs = load("expert-capacity");
  const experts = of(docs, "Deployment").filter((d) => component(d) === "expert");
  for (const d of experts) {
    const spec = d.spec.template.spec, args = spec.containers[0].args;
    check(argValue(args, "--expert-capacity") === "120", `expert-capacity/${d.metadata.name}: --expert-capacity 120`);
    check(argValue(args, "--drain-timeout") === "90" && spec.terminationGracePeriodSeconds === 120, `expert-capacity/${d.metadata.name}: --drain-timeout 90 and a 120 s grace period`);
  }
  for (const d of of(docs, "Deployment").filter((d) => component(d) !== "expert"))
    check(!d.spec.template.spec.containers[0].args.includes("--expert-capacity"), `expert-capacity/${d.metadata.name}: no --expert-capacity`);
}
checkScaled("default", "default-scaled", "-expert-cpu", 7);
checkScaled("gpu", "gpu-scaled", "-expert-h100", 9);

console.error(`check-chart: ${checks - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
