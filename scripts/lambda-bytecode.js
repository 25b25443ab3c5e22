'use strict';
// Serverless plugin: after the zip is made (and, being listed after serverless-python-requirements,
// after Pillow was injected into it), scripts/add_bytecode.py adds unchecked-hash .pyc files
// compiled by the runtime's own Python (python3.12), so that cold starts do not compile every
// module on Lambda's read-only filesystem. Without a working interpreter of that version the
// package is made anyway, without bytecode, and one warning says so.
const path = require('path');
const { spawnSync } = require('child_process');

const SCRIPT = path.join(__dirname, 'add_bytecode.py');

class LambdaBytecode {
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.hooks = {
      'after:package:createDeploymentArtifacts': () =>
        this.addBytecode(serverless.service.package.artifact),
      // `sls deploy function`: that function's own zip
      'after:deploy:function:packageFunction': () =>
        this.addBytecode((serverless.service.getFunction(options.function).package || {}).artifact),
    };
  }

  addBytecode(artifact) {
    const runtime = String(this.serverless.service.provider.runtime || '');
    const version = /^python(3\.\d+)$/.exec(runtime);
    if (!version || !artifact) return;
    // Only the zips that the framework made: never rewrite a prebuilt `package.artifact`.
    const zip = path.resolve(this.serverless.serviceDir, artifact);
    const built = path.join(this.serverless.serviceDir, '.serverless') + path.sep;
    if (!zip.startsWith(built) || !zip.endsWith('.zip')) return;

    const python = process.env.PYTHON_FOR_LAMBDA_BYTECODE || runtime;
    const tag = `cpython-${version[1].replace('.', '')}`;
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
    const done = spawnSync(python, [SCRIPT, zip], { encoding: 'utf8' });
    if (done.status !== 0) {
      throw new this.serverless.classes.Error(
        `${SCRIPT} failed on ${zip}:\n${done.stdout}${done.stderr}`
      );
    }
    if (done.stderr) this.log.warning(done.stderr.trim());
    this.log.info(done.stdout.trim());
  }
}

module.exports = LambdaBytecode;
