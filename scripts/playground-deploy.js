'use strict';
// Serverless plugin: after `sls deploy` (deployDemoUi=Yes), the playground goes into the stack's
// demo UI bucket under playground/, where CloudFront serves it beside the image API, so that the
// page is deployed with the stack and no separate step. scripts/upload_demo_ui.py --out writes
// the static site (the page, the filter registry as filters.json, the deployed config.json);
// this uploads it with the framework's own credentials and region (AWS SDK v3 clients, from
// provider.getAwsSdkV3Config(): osls 4 removed provider.request()). No DemoUiBucket output:
// nothing to do.
// The page's SIH mode is on when the deployed function answers SIH's requests: its SIH_COMPAT,
// read from the function's configuration (what the stack set, whatever parameter set it).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const SCRIPT = path.join(__dirname, 'upload_demo_ui.py');
const OUTPUT = 'DemoUiBucket'; // resources/outputs.yml
const FUNCTION = 'image'; // serverless.yml's image function

class PlaygroundDeploy {
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.provider = serverless.getProvider('aws');
    this.log = log;
    this.hooks = { 'after:deploy:deploy': () => this.deploy() };
  }

  /** AWS's answer to `command` (`DescribeStacks`) of `service` (`CloudFormation`): the SDK v3
   * client and command by those names, configured as the framework's own clients are. */
  async aws(service, command, params) {
    const sdk = require(`@aws-sdk/client-${service.toLowerCase()}`);
    const client = new sdk[`${service}Client`](await this.provider.getAwsSdkV3Config());
    return client.send(new sdk[`${command}Command`](params));
  }

  async bucket() {
    const stackName = this.provider.naming.getStackName();
    const result = await this.aws('CloudFormation', 'DescribeStacks', { StackName: stackName });
    const outputs = (result.Stacks && result.Stacks[0] && result.Stacks[0].Outputs) || [];
    const output = outputs.find((o) => o.OutputKey === OUTPUT);
    return output ? output.OutputValue : null;
  }

  /** The deployed function's SIH_COMPAT, as written ('false' when it has none). */
  async sihCompat() {
    const name = this.serverless.service.getFunction(FUNCTION).name;
    const config = await this.aws('Lambda', 'GetFunctionConfiguration', { FunctionName: name });
    const variables = (config.Environment && config.Environment.Variables) || {};
    return variables.SIH_COMPAT || 'false';
  }

  async deploy() {
    const bucket = await this.bucket();
    if (!bucket) return;
    const folder = path.join(this.serverless.serviceDir, '.serverless', 'playground');
    fs.rmSync(folder, { recursive: true, force: true });
    // The script imports the package (its filter registry): the project's venv has it.
    const venv = path.join(this.serverless.serviceDir, '.venv', 'bin', 'python');
    const python = process.env.PYTHON_FOR_PLAYGROUND || (fs.existsSync(venv) ? venv : 'python3');
    // The script reads the value as the function does (true/false, yes/no, 1/0).
    const args = [SCRIPT, '--sih-compat', await this.sihCompat(), '--out', folder];
    const built = spawnSync(python, args, { encoding: 'utf8' });
    if (built.status !== 0) {
      throw new this.serverless.classes.Error(
        `the playground could not be built (${python} ${SCRIPT}): ${built.stderr || built.error}`,
      );
    }
    const types = JSON.parse(fs.readFileSync(path.join(folder, 'content-types.json'), 'utf8'));
    for (const [key, contentType] of Object.entries(types)) {
      await this.aws('S3', 'PutObject', {
        Bucket: bucket,
        Key: key,
        Body: fs.readFileSync(path.join(folder, key)),
        ContentType: contentType,
        CacheControl: 'public, max-age=300',
      });
    }
    this.log.info(`the playground: ${Object.keys(types).length} files in s3://${bucket}/playground/`);
  }
}

module.exports = PlaygroundDeploy;
