#!/usr/bin/env node
// Runs the bundled CLI (dist/, built by `npm ci`) when it is newer than every source file, and the
// TypeScript sources through tsx otherwise, so an edit is never run stale.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The SDK warns on every run that Node 20 support ends in 2027; users of a CLI cannot act on that.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bundle = join(root, "dist", "restorable.mjs");

function newestSource() {
  let newest = statSync(join(root, "package.json")).mtimeMs;
  for (const folder of ["cli", "shared", "functions"]) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts")) {
        newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
      }
    }
  }
  return newest;
}

function bundleIsFresh() {
  if (process.env.RESTORABLE_FROM_SOURCE) return false;
  try {
    return statSync(bundle).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

if (bundleIsFresh()) {
  await import(bundle);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../run.ts");
}
