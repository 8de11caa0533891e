#!/usr/bin/env node
/**
 * The entry point of dist/restorable-host.mjs: one file that runs with Node ≥ 20 alone, for backup hosts and
 * operators (push, backup, restore, catalog, retention, restic, key, drill, …). Everything but `local`, so
 * nothing in it looks for this repository, the CDK or esbuild; the version is baked in by cli/build.ts, which
 * also wraps this bundle in cli/host-launcher.ts's loader (no top-level await here: the bundle is a script).
 */
import { buildHostProgram, runCommandLine } from "./program";

// The SDK warns on every run that Node 20 support ends in 2027; users of a CLI cannot act on that.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

void runCommandLine(buildHostProgram);
