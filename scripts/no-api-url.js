'use strict';
// Serverless plugin: the stack's outputs name CloudFront only. The framework adds the HTTP API's
// own address (HttpApiUrl, HttpApiId) as outputs; the API refuses requests that do not come
// through CloudFront (the origin secret), so giving its address out only invites the mistake.
class NoApiUrl {
  constructor(serverless) {
    this.hooks = {
      'after:package:compileEvents': () => {
        const outputs = serverless.service.provider.compiledCloudFormationTemplate.Outputs || {};
        delete outputs.HttpApiUrl;
        delete outputs.HttpApiId;
      },
    };
  }
}

module.exports = NoApiUrl;
