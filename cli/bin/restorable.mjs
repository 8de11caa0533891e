#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx restorable` works straight after `npm ci`.
import { register } from "tsx/esm/api";

// The SDK warns on every run that Node 20 support ends in 2027; users of a CLI cannot act on that.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
register();
await import("../main.ts");
