/**
 * Bundles the CLI into dist/ (run by `npm ci` through the prepare script, by `npm run build`, and before the
 * tests and benchmarks):
 *
 * - dist/restorable.mjs, the CLI of a checkout: it starts faster and uses less memory than the sources
 *   through tsx, which matters on hosts pushing backups; commands load their SDK clients lazily, in chunks
 *   of their own. cli/bin/restorable.mjs runs it when it is newer than every source, and the sources otherwise.
 * - dist/restorable-host.mjs, the one file a backup host installs (README "Installing on a backup host"):
 *   every command but `local`, no chunks, nothing outside it but Node ≥ 20 (no node_modules, no checkout),
 *   executable, the version baked in, started through V8's code cache (cli/host-launcher.ts).
 */
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { hostLauncher } from "./host-launcher";
import { REPOSITORY_ROOT } from "./local/paths";

const DIST_DIRECTORY = path.join(REPOSITORY_ROOT, "dist");
const HOST_BUNDLE = path.join(DIST_DIRECTORY, "restorable-host.mjs");

const { version } = JSON.parse(await readFile(path.join(REPOSITORY_ROOT, "package.json"), "utf-8")) as {
  version: string;
};

const common: BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "node",
  // Prefer the ESM builds: smaller, and their named exports survive lazy import().
  mainFields: ["module", "main"],
  target: "node20",
  // Some dependencies are CommonJS and call require(); ESM output needs one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // cli/version.ts reads package.json only when run from the sources.
  define: { RESTORABLE_BUILD_VERSION: JSON.stringify(version) },
  logLevel: "warning",
};

/** What the host file must never contain: the local stack and what it needs from a checkout. */
const NOT_ON_A_HOST = [
  /node_modules\/aws-cdk-lib\//,
  /node_modules\/esbuild\//,
  /node_modules\/constructs\//,
  /^cli\/local\//,
];

await rm(DIST_DIRECTORY, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { restorable: path.join(REPOSITORY_ROOT, "cli", "run.ts") },
  outdir: DIST_DIRECTORY,
  splitting: true,
  sourcemap: true,
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  // The local stack synthesizes the CDK app for its drill state machine: the CDK and its bundler stay in
  // node_modules (they are CommonJS that expects __dirname, and the local stack runs from a checkout).
  external: ["aws-cdk-lib", "constructs", "esbuild"],
});

// One file: every lazy import() is inlined (and still evaluated only when reached), as a CommonJS script
// that cli/host-launcher.ts compiles with V8's code cache. Minified, names kept for stack traces.
const host = await build({
  ...common,
  banner: {},
  entryPoints: [path.join(REPOSITORY_ROOT, "cli", "host.ts")],
  outfile: HOST_BUNDLE,
  write: false,
  format: "cjs",
  minify: true,
  keepNames: true,
  metafile: true,
  // A script has no import() of its own (vm would need a loader for it): require() the node: builtins.
  supported: { "dynamic-import": false },
  define: { ...common.define, "import.meta.url": "__restorableModuleUrl" },
});
const strays = Object.keys((host.metafile as Metafile).inputs).filter((input) =>
  NOT_ON_A_HOST.some((pattern) => pattern.test(input)),
);
if (strays.length > 0) {
  throw new Error(`dist/restorable-host.mjs must run without a checkout, but it bundles ${strays.join(", ")}`);
}
const [bundled] = host.outputFiles ?? [];
if (!bundled) throw new Error("esbuild wrote no host bundle");
await writeFile(HOST_BUNDLE, hostLauncher(bundled.text.replace(/^#!.*\n/, "")));
await chmod(HOST_BUNDLE, 0o755);
