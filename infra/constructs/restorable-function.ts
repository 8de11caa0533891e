import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Function as LambdaFunction, LoggingFormat, Runtime } from "aws-cdk-lib/aws-lambda";
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { environmentFor, type FunctionContract, type SettingValues } from "../../shared/contracts/functions";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Every function runs on this runtime (the benchmark loads its bundles with the same options). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/**
 * The credential providers of the SDK's default chain that a Lambda never reaches: Lambda puts the role's
 * credentials in the environment (AWS_ACCESS_KEY_ID, …), which the chain's first link, `fromEnv`, reads. The
 * chain imports each later link only when the ones before it found nothing (`await import(…)`), so leaving
 * them out of the bundle removes about 85 KB (the STS, SSO and sign-in clients, INI files, processes, web
 * identity) that no invocation runs. The container and instance providers (a few KB) stay in.
 * bench/lambda-bundles.bench.ts loads every bundle from a directory without node_modules and invokes it.
 */
export const NEVER_REACHED_IN_LAMBDA = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-login",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/nested-clients",
];

/**
 * How every Lambda is bundled (also by bench/lambda-bundles.bench.ts, so the figures are of what deploys):
 * ES modules, which let esbuild keep only what each handler uses of the SDK clients' `module` builds (the
 * CommonJS `main` builds are one file per package, all or nothing); minified; the AWS SDK included so that
 * the code runs against the SDK version it was tested with. The source map is a file of its own beside
 * index.mjs, linked by its last line (NODE_OPTIONS=--enable-source-maps maps stack traces through it) and
 * without the sources' text, so nothing of it is in what Lambda loads. CommonJS dependencies that call
 * require() (cron-parser, luxon) get one from the banner.
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  target: "node22",
  mainFields: ["module", "main"],
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  externalModules: NEVER_REACHED_IN_LAMBDA,
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
} as const satisfies BundlingOptions;

/** What every function's environment holds besides its contract's settings. */
export const LAMBDA_ENVIRONMENT = {
  NODE_OPTIONS: "--enable-source-maps",
  POWERTOOLS_LOG_LEVEL: "INFO",
} as const;

/** The handler file a function's contract names. */
export function functionEntryPath(contract: Pick<FunctionContract, "entry">): string {
  return path.join(repositoryRoot, "functions", `${contract.entry}.ts`);
}

/**
 * Context key: when true, functions get a one-line stub instead of their esbuild bundle, so tests that
 * only look at the template synthesize in seconds (as instance-scheduler-on-aws's TestFunctionFactory does).
 * One infra test still bundles for real.
 */
export const STUB_FUNCTION_CODE_CONTEXT = "restorable:stubFunctionCode";

export interface RestorableFunctionProps<C extends FunctionContract> {
  /** Entry, description, timeout, memory and the settings the handler reads (shared/contracts/functions.ts). */
  readonly contract: C;
  /** Every setting the contract names, by name: one missing or misspelt fails to compile. */
  readonly settings: SettingValues<C>;
}

/**
 * The one way this project makes a Lambda: current Node.js on ARM, JSON logs kept for 90 days, source
 * maps, bundled locally by esbuild (no Docker) as `LAMBDA_BUNDLING` says; its environment built from its
 * contract. Its role starts empty except for writing its own log group: everything else comes from
 * explicit grants.
 */
export function restorableFunction<C extends FunctionContract>(
  scope: Construct,
  id: string,
  props: RestorableFunctionProps<C>,
): LambdaFunction {
  const { contract } = props;
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
    description: `Runs ${contract.entry}`,
  });
  logGroup.grantWrite(role);
  const common = {
    role,
    description: contract.description,
    runtime: LAMBDA_RUNTIME,
    architecture: Architecture.ARM_64,
    memorySize: contract.memoryMB,
    timeout: Duration.seconds(contract.timeoutSeconds),
    loggingFormat: LoggingFormat.JSON,
    logGroup,
    environment: { ...LAMBDA_ENVIRONMENT, ...environmentFor(contract, props.settings) },
  };
  if (scope.node.tryGetContext(STUB_FUNCTION_CODE_CONTEXT) === true) {
    return new LambdaFunction(scope, id, {
      ...common,
      handler: "index.handler",
      code: Code.fromInline(`exports.handler = async () => { throw new Error("stub of ${contract.entry}"); };`),
    });
  }
  return new NodejsFunction(scope, id, {
    ...common,
    ...bundledEntry(contract),
    bundling: LAMBDA_BUNDLING,
  });
}

/** Where a function's code comes from, for NodejsFunction (the benchmark bundles with the same). */
export function bundledEntry(contract: Pick<FunctionContract, "entry">) {
  return {
    entry: functionEntryPath(contract),
    handler: "handler",
    projectRoot: repositoryRoot,
    depsLockFilePath: path.join(repositoryRoot, "package-lock.json"),
  };
}
