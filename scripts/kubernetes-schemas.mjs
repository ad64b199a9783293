// Offline JSON Schemas for kubeconform (scripts/ci-deploy.sh): no schema can be downloaded on the
// build machine, so they come from registry packages.
//   built-in kinds: the kubernetes-validate wheel (PyPI) ships Kubernetes' schemas per version;
//     its files point at "/api/_definitions.json" under an https $id, which we rewrite to the
//     sibling file so that every $ref resolves on disk.
//   cert-manager kinds: the CRDs in cert-manager's Go module source (deploy/crds); each version's
//     openAPIV3Schema becomes a strict JSON Schema (unknown fields refused, as kubeconform -strict
//     does for built-in kinds), at <out>/crds/<group>/<kind>_<version>.json.
// Usage: node scripts/kubernetes-schemas.mjs <extracted-version-dir> <crd-dir> <out-dir>
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const [versionDir, crdDir, out] = process.argv.slice(2);
if (!versionDir || !crdDir || !out) {
  console.error('usage: kubernetes-schemas.mjs <version-dir> <crd-dir> <out-dir>');
  process.exit(2);
}

mkdirSync(out, { recursive: true });
let builtIn = 0;
for (const name of readdirSync(versionDir)) {
  if (!name.endsWith('.json')) continue;
  const schema = JSON.parse(readFileSync(join(versionDir, name), 'utf8'));
  delete schema.$id;
  const text = JSON.stringify(schema).replaceAll('"/api/_definitions.json#', '"_definitions.json#');
  writeFileSync(join(out, name), text);
  builtIn++;
}

/** openapi2jsonschema's strict mode: objects with declared properties refuse unknown ones. */
function strict(node) {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, strict(v)]));
  if (copy.properties && copy.additionalProperties === undefined && !copy['x-kubernetes-preserve-unknown-fields']) copy.additionalProperties = false;
  return copy;
}

let crds = 0;
for (const name of readdirSync(crdDir)) {
  if (!/\.ya?ml$/.test(name)) continue;
  for (const doc of parseAllDocuments(readFileSync(join(crdDir, name), 'utf8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names } = crd.spec;
    for (const version of crd.spec.versions) {
      const schema = strict(version.schema.openAPIV3Schema);
      schema.properties.apiVersion = { type: 'string', enum: [`${group}/${version.name}`] };
      schema.properties.kind = { type: 'string', enum: [names.kind] };
      // metadata is checked by the API server's ObjectMeta, not by the CRD's schema.
      schema.properties.metadata = { type: 'object' };
      mkdirSync(join(out, 'crds', group), { recursive: true });
      writeFileSync(join(out, 'crds', group, `${names.kind.toLowerCase()}_${version.name}.json`), JSON.stringify(schema));
      crds++;
    }
  }
}
console.log(`[kubernetes-schemas] ${builtIn} built-in schemas, ${crds} CRD version schemas in ${out}`);
