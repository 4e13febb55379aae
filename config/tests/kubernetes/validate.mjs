// Validates Kubernetes manifests against the Kubernetes API's own JSON schemas, as packaged by kubernetes-models
// (tommy351/kubernetes-models-ts, generated from the upstream OpenAPI spec). Usage:
//   node validate.mjs [file.yaml ...]     (default: every config/kubernetes/*.yaml)
// Prints one line per object and exits 1 when any object is invalid or of an unknown apiVersion/kind.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const manifests = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "kubernetes");
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(manifests).filter(f => f.endsWith(".yaml")).sort().map(f => join(manifests, f));

let failures = 0;
for (const file of files) {
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (document.errors.length > 0) {
      console.log(`${file}: invalid YAML: ${document.errors.map(e => e.message).join("; ")}`);
      failures++;
      continue;
    }

    const object = document.toJS();
    if (object === null) continue;
    const name = `${file}: ${object.kind ?? "?"} ${object.metadata?.name ?? "?"}`;
    try {
      // "v1" is the core group (kubernetes-models/v1); "apps/v1" is kubernetes-models/apps/v1.
      const module = await import(`kubernetes-models/${object.apiVersion}`);
      const Model = module[object.kind];
      if (typeof Model !== "function") throw new Error(`unknown kind ${object.kind} in ${object.apiVersion}`);
      new Model(object).validate();
      console.log(`${name}: valid`);
    } catch (error) {
      console.log(`${name}: INVALID: ${error.message}`);
      failures++;
    }
  }
}

process.exit(failures === 0 ? 0 : 1);
