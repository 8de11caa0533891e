/**
 * The outside of dist/restorable-host.mjs. Node ≥ 20 spends about 60 ms parsing a 1.5 MB bundle before the
 * first line of it runs, which is most of `restorable --help`; so the bundle (CommonJS, built by
 * cli/build.ts) is kept in the file as a string and compiled with V8's code cache: the first run on a host
 * writes the cache, every later run starts from it. The cache is only a cache: the file runs without it, and
 * whatever it finds there that V8 rejects (another Node, another build) it writes anew.
 *
 * Where: $RESTORABLE_CACHE_DIR, else $XDG_CACHE_HOME/restorable, else ~/.cache/restorable; never a shared
 * temporary directory, and a cache file is used only when it belongs to the user running the command and
 * nobody else may write it (compiled code is code). RESTORABLE_COMPILE_CACHE=0 turns it off.
 */
import { createHash } from "node:crypto";

/** The launcher, with the bundle's code inside it. */
export function hostLauncher(bundle: string): string {
  const code = `(function (require, module, exports, __filename, __dirname, __restorableModuleUrl) {${bundle}\n})`;
  const build = createHash("sha256").update(code).digest("hex").slice(0, 16);
  return `#!/usr/bin/env node
// restorable, for backup hosts and operators: one file, Node >= 20 and nothing else. Built by cli/build.ts.
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const CODE = ${JSON.stringify(code)};
const file = fileURLToPath(import.meta.url);
const cache = cacheFile(${JSON.stringify(build)});
const cachedData = cache ? readCache(cache) : undefined;
const script = new Script(CODE, { filename: file, cachedData });
if (cache && (!cachedData || script.cachedDataRejected)) {
  // At exit, the cache holds every function this run compiled, not only the outermost ones.
  process.once("exit", () => writeCache(cache, script));
}
const module = { exports: {} };
script.runInThisContext()(createRequire(import.meta.url), module, module.exports, file, path.dirname(file), import.meta.url);

function cacheFile(build) {
  if (process.env.RESTORABLE_COMPILE_CACHE === "0") return undefined;
  const home = process.env.XDG_CACHE_HOME || (homedir() && path.join(homedir(), ".cache"));
  const directory = process.env.RESTORABLE_CACHE_DIR || (home && path.join(home, "restorable"));
  if (!directory) return undefined;
  return path.join(directory, "host-" + build + "-v8-" + process.versions.v8 + "-" + process.arch + ".cache");
}

function readCache(cache) {
  try {
    const stats = statSync(cache);
    const mine = typeof process.getuid !== "function" || stats.uid === process.getuid();
    if (!mine || (stats.mode & 0o022) !== 0) return undefined;
    return readFileSync(cache);
  } catch {
    return undefined;
  }
}

function writeCache(cache, script) {
  try {
    mkdirSync(path.dirname(cache), { recursive: true, mode: 0o700 });
    const partial = cache + "." + process.pid;
    writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    chmodSync(partial, 0o600);
    renameSync(partial, cache);
  } catch {
    // A read-only home or a full disk: the next run parses the bundle again, which only takes longer.
  }
}
`;
}
