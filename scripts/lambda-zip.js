'use strict';
// Serverless plugin: after the zip is made (and, being listed after serverless-python-requirements,
// after the requirements were injected into it), two steps on it:
// - scripts/trim_botocore.py cuts the zip's botocore down to the AWS calls the package makes
//   (any Python 3 runs it: the one that ran pip for serverless-python-requirements);
// - scripts/add_bytecode.py adds unchecked-hash .pyc files compiled by the runtime's own Python
//   (python3.12), so that cold starts do not compile every module on Lambda's read-only
//   filesystem. Without a working interpreter of that version the package is made anyway,
//   without bytecode, and one warning says so.
const path = require('path');
const { spawnSync } = require('child_process');

const BYTECODE = path.join(__dirname, 'add_bytecode.py');
const TRIM = path.join(__dirname, 'trim_botocore.py');

class LambdaZip {
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.hooks = {
      'after:package:createDeploymentArtifacts': () =>
        this.finish(serverless.service.package.artifact),
      // `sls deploy function`: that function's own zip
      'after:deploy:function:packageFunction': () =>
        this.finish((serverless.service.getFunction(options.function).package || {}).artifact),
    };
  }

  finish(artifact) {
    const runtime = String(this.serverless.service.provider.runtime || '');
    const version = /^python(3\.\d+)$/.exec(runtime);
    if (!version || !artifact) return;
    // Only the zips that the framework made: never rewrite a prebuilt `package.artifact`.
    const zip = path.resolve(this.serverless.serviceDir, artifact);
    const built = path.join(this.serverless.serviceDir, '.serverless') + path.sep;
    if (!zip.startsWith(built) || !zip.endsWith('.zip')) return;

    const requirements = (this.serverless.service.custom || {}).pythonRequirements || {};
    this.run(requirements.pythonBin || 'python3', TRIM, zip);
    this.addBytecode(zip, runtime, version[1]);
  }

  addBytecode(zip, runtime, version) {
    const python = process.env.PYTHON_FOR_LAMBDA_BYTECODE || runtime;
    const tag = `cpython-${version.replace('.', '')}`;
    // Missing, failing (a pyenv shim without that version) or another version: all the same.
    const probe = spawnSync(python, ['-c', 'import sys; print(sys.implementation.cache_tag)'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0 || probe.stdout.trim() !== tag) {
      this.log.warning(
        `No .pyc in the package: "${python}" is not a working ${runtime} ` +
          '(set PYTHON_FOR_LAMBDA_BYTECODE), so every cold start compiles the modules (~0.2 s more).'
      );
      return;
    }
    this.run(python, BYTECODE, zip);
  }

  run(python, script, zip) {
    const done = spawnSync(python, [script, zip], { encoding: 'utf8' });
    if (done.status !== 0) {
      throw new this.serverless.classes.Error(
        `${script} failed on ${zip}:\n${done.stdout}${done.stderr}${done.error || ''}`
      );
    }
    if (done.stderr) this.log.warning(done.stderr.trim());
    if (done.stdout.trim()) this.log.info(done.stdout.trim());
  }
}

module.exports = LambdaZip;
