import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { RestorableStack } from "./restorable-stack";

const app = new App();
new RestorableStack(app, app.node.tryGetContext("stackName") ?? "Restorable", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: "restorable: backup catalog, retention and restore drills",
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
