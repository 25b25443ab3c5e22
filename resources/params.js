// The --param values checked, and what the stack derives from them, for serverless.yml and
// resources/*.yml: `${file(./resources/params.js):computed.<name>}`. Runs offline (no AWS call):
// `sls package` needs no account. A bad value stops packaging with a message that names it.
//
// On `--stage local` (sls invoke local, sls offline) the environment holds only literal values;
// on every other stage some are CloudFormation references (Ref, Fn::Join), which `sls deploy`
// resolves and `sls invoke local --stage <deployed stage>` reads back from the deployed stack.
"use strict";

const YES_NO = ["Yes", "No"];
const PRICE_CLASSES = ["PriceClass_All", "PriceClass_200", "PriceClass_100"];
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CERTIFICATE = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/;
const WEB_ACL = /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[0-9a-f-]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;
const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// CloudWatch Logs accepts only these retentions (days).
const RETENTIONS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
  2557, 2922, 3288, 3653];
// The local server's (thumbor_urls/playground.py, CONTENT_SECURITY_POLICY): the same page.
const PLAYGROUND_CSP = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
  + "base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
// The query parameters SIH (v7) reads (thumbor_urls/sih/request.py).
const SIH_QUERY = ["expires", "fit", "flip", "flop", "format", "grayscale", "height", "rotate",
  "signature", "width"];
const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;
// Every bucket name the stack makes is <prefix>-<12-digit account id>-<suffix of 7 or 8>.
const MAX_PREFIX = 63 - 13 - 8;

const NAMES = [
  "namePrefix", "sourceBuckets", "createSourceBucket", "enableSignature", "allowUnsafeUrl",
  "secretsManagerSecret", "secretsManagerKey", "autoWebp", "autoAvif", "clientHints", "sihCompat",
  "httpOrigins", "allowedSources",
  "corsEnabled", "corsOrigin", "deployDemoUi", "enableDefaultFallbackImage", "fallbackImageBucket",
  "fallbackImageKey", "cloudFrontPriceClass", "logRetentionDays", "resultTtlDays", "memorySize",
  "architecture", "kmsKeyArn", "detectors", "moderation", "reservedConcurrency",
  "apiThrottleRate", "apiThrottleBurst", "maxSourcePixels", "wafRateLimit", "webAclArn",
  "domainName", "certificateArn", "originShieldRegion", "monitoring", "alarmEmail",
  "enableS3ObjectLambda", "useExistingCloudFrontDistribution", "resultBucket",
  "snapStart",
];

class ParamError extends Error {}

function fail(message) {
  throw new ParamError(`thumbor-urls parameters: ${message}`);
}

function text(value) {
  return value === null || value === undefined ? "" : String(value).trim();
}

function yesNo(params, name) {
  const value = params[name];
  if (!YES_NO.includes(value)) fail(`${name} must be Yes or No, not "${value}"`);
  return value === "Yes";
}

function integer(params, name, min, max, { none = false } = {}) {
  const value = params[name];
  if (none && (value === "" || value.toLowerCase() === "none")) return null;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    fail(`${name} must be a whole number from ${min} to ${max}${none ? ", or none" : ""}, not "${value}"`);
  }
  return Number(value);
}

function list(value) {
  // SIH's SourceBuckets allows spaces after the commas: "bucket-a, bucket-b".
  return text(value).split(",").map((item) => item.trim()).filter(Boolean);
}

const yes = (flag) => (flag ? "Yes" : "No");

async function compute({ resolveVariable }) {
  const params = {};
  for (const name of NAMES) params[name] = text(await resolveVariable(`param:${name}`));
  const stage = text(await resolveVariable("sls:stage"));
  const region = text(await resolveVariable("self:provider.region"));
  const local = stage === "local";

  const signature = yesNo(params, "enableSignature");
  for (const name of ["autoWebp", "autoAvif", "clientHints", "sihCompat", "corsEnabled", "deployDemoUi",
    "enableDefaultFallbackImage", "moderation", "monitoring"]) yesNo(params, name);
  // SnapStart runs only published versions: osls then adds a version's alias ("snapstart") and
  // points the API's integration and permission at it.
  const snapStart = yesNo(params, "snapStart");
  if (!PRICE_CLASSES.includes(params.cloudFrontPriceClass)) {
    fail(`cloudFrontPriceClass must be one of ${PRICE_CLASSES.join(", ")}`);
  }
  // SIH options that change what the stack is: refused rather than silently ignored.
  for (const name of ["enableS3ObjectLambda", "useExistingCloudFrontDistribution"]) {
    if (params[name] === "Yes") fail(`${name}=Yes (a Serverless Image Handler option) is not supported`);
  }

  // Unsafe URLs: the opposite of signing unless the operator sets allowUnsafeUrl.
  let unsafe = params.allowUnsafeUrl;
  if (unsafe === "") unsafe = signature ? "No" : "Yes";
  else if (!YES_NO.includes(unsafe)) fail(`allowUnsafeUrl must be Yes, No or empty, not "${unsafe}"`);

  const buckets = list(params.sourceBuckets);
  for (const bucket of buckets) {
    if (!BUCKET.test(bucket)) fail(`sourceBuckets: "${bucket}" is not an S3 bucket name`);
  }
  let create = params.createSourceBucket;
  if (create === "") create = buckets.length === 0 ? "Yes" : "No";
  else if (!YES_NO.includes(create)) fail(`createSourceBucket must be Yes, No or empty, not "${create}"`);
  const createSource = create === "Yes";
  if (!local && !createSource && buckets.length === 0) {
    fail("give sourceBuckets=<your bucket,...> or createSourceBucket=Yes");
  }

  const prefix = params.namePrefix.toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]*$/.test(prefix) || prefix.length > MAX_PREFIX) {
    fail(`namePrefix "${prefix}" must be letters, digits and hyphens, at most ${MAX_PREFIX} characters (bucket names get the account id and a suffix)`);
  }

  // A result bucket of one's own, for `sls invoke local --stage local` against S3 (or moto).
  if (params.resultBucket && !local) fail("resultBucket is for --stage local: the stack makes its own");
  const fallback = params.enableDefaultFallbackImage === "Yes";
  if (fallback && (!BUCKET.test(params.fallbackImageBucket) || !params.fallbackImageKey)) {
    fail("enableDefaultFallbackImage=Yes needs fallbackImageBucket and fallbackImageKey");
  }

  // Signing key: an existing secret (SIH's SecretsManagerSecret, with its JSON key field), or
  // one generated in the stack.
  const existing = params.secretsManagerSecret;
  if (existing && !SECRET_ARN.test(existing) && !SECRET_NAME.test(existing)) {
    fail(`secretsManagerSecret "${existing}" is neither a secret's name nor its ARN`);
  }
  const generateSecret = signature && !existing;
  const existingSecretArn = !existing ? ""
    : SECRET_ARN.test(existing) ? existing
    // A name: Secrets Manager appends "-" and six characters to it in the ARN.
    : { "Fn::Sub": `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${existing}-??????` };

  const logRetentionDays = integer(params, "logRetentionDays", 1, 3653);
  if (!RETENTIONS.includes(logRetentionDays)) {
    fail(`logRetentionDays must be one of CloudWatch's retentions: ${RETENTIONS.join(", ")}`);
  }
  const resultTtlDays = integer(params, "resultTtlDays", 1, 3650);
  integer(params, "memorySize", 128, 10240);
  if (!["arm64", "x86_64"].includes(params.architecture)) fail("architecture must be arm64 or x86_64");
  const reserved = integer(params, "reservedConcurrency", 1, 100000, { none: true });
  const rate = integer(params, "apiThrottleRate", 1, 100000);
  const burst = integer(params, "apiThrottleBurst", 1, 100000);
  const maxSourcePixels = integer(params, "maxSourcePixels", 1, 1000000000);
  const wafRateLimit = integer(params, "wafRateLimit", 0, 2000000000);
  if (wafRateLimit !== 0 && wafRateLimit < 10) fail("wafRateLimit must be 0 (off) or at least 10");
  if (wafRateLimit && params.webAclArn) fail("give wafRateLimit or webAclArn, not both");
  if (wafRateLimit && region !== "us-east-1" && !local) {
    fail("wafRateLimit: a web ACL for CloudFront lives in us-east-1; deploy there, or create one in us-east-1 and give its ARN as webAclArn");
  }
  if (params.webAclArn && !WEB_ACL.test(params.webAclArn)) {
    fail("webAclArn must be the ARN of a CloudFront (global, us-east-1) WAFv2 web ACL");
  }

  // HTTP origins make the function fetch what URLs name: only from the hosts the operator lists
  // (`*`, explicitly, for any public host; the loader refuses private addresses either way).
  const http = yesNo(params, "httpOrigins");
  const sources = list(params.allowedSources);
  if (http && !sources.length) {
    fail("httpOrigins=Yes needs allowedSources: the hosts to fetch from (comma list), or * for any public host");
  }
  if (!http && sources.length) fail("allowedSources is for httpOrigins=Yes");
  if (sources.includes("*") && sources.length > 1) fail("allowedSources: * (any public host) stands alone");
  for (const source of sources) if (/\s/.test(source)) fail(`allowedSources: "${source}" has a space`);

  const aliases = list(params.domainName.toLowerCase());
  for (const alias of aliases) if (!DOMAIN.test(alias)) fail(`domainName: "${alias}" is not a domain name`);
  if (aliases.length && !CERTIFICATE.test(params.certificateArn)) {
    fail("domainName needs certificateArn, an ACM certificate in us-east-1 (CloudFront reads it there)");
  }
  if (!aliases.length && params.certificateArn) fail("certificateArn is for domainName: give both");

  let shield = params.originShieldRegion;
  if (shield === "Disabled") shield = ""; // SIH's value for off
  if (shield && !REGION.test(shield)) fail(`originShieldRegion "${shield}" is not a region`);

  if (params.alarmEmail && !EMAIL.test(params.alarmEmail)) fail("alarmEmail must be one e-mail address");

  // What depends on a conditional resource is wrapped in its condition (always true when it is
  // emitted: cfn-lint cannot know that), and what does not apply is left out (AWS::NoValue).
  const NO_VALUE = { Ref: "AWS::NoValue" };
  const when = (condition, value, otherwise = NO_VALUE) => ({ "Fn::If": [condition, value, otherwise] });
  const statement = (sid, action, resource) => ({ Sid: sid, Effect: "Allow", Action: action, Resource: resource });
  const policy = (name, ...statements) => ({
    PolicyName: name,
    PolicyDocument: { Version: "2012-10-17", Statement: statements },
  });

  // IAM resources, with the partition of the stack's region.
  const arn = (bucket, suffix) => ({ "Fn::Sub": `arn:\${AWS::Partition}:s3:::${bucket}${suffix}` });
  const sourceObjects = buckets.map((bucket) => arn(bucket, "/*"));
  const sourceBuckets = buckets.map((bucket) => arn(bucket, ""));
  if (createSource) {
    sourceObjects.push(when("CreateSourceBucket", { "Fn::Sub": "${SourceBucket.Arn}/*" }));
    sourceBuckets.push(when("CreateSourceBucket", { "Fn::GetAtt": ["SourceBucket", "Arn"] }));
  }
  let signingPolicy = NO_VALUE;
  if (generateSecret) {
    signingPolicy = when("GenerateSigningSecret", policy("signing-secret",
      statement("ReadSigningSecret", "secretsmanager:GetSecretValue", { Ref: "SigningSecret" })));
  } else if (signature && existing) {
    signingPolicy = policy("signing-secret",
      statement("ReadSigningSecret", "secretsmanager:GetSecretValue", existingSecretArn));
  }
  const fallbackPolicy = !fallback ? NO_VALUE : policy("fallback-image", statement(
    "ReadFallbackImage", "s3:GetObject", arn(params.fallbackImageBucket, `/${params.fallbackImageKey}`)));

  // The environment. The created source bucket comes first (the default) when none is given.
  const created = { Ref: "SourceBucket" };
  const sourceList = !createSource ? buckets.join(",")
    : when("CreateSourceBucket", buckets.length ? { "Fn::Join": [",", [...buckets, created]] } : created, "");
  const env = local
    ? {
        SOURCE_BUCKETS: buckets.join(","),
        RESULT_STORAGE_BUCKET: params.resultBucket,
        SECRETS_MANAGER: existing,
        SECRET_KEY: params.secretsManagerKey,
        ORIGIN_SECRET: "",
      }
    : {
        SOURCE_BUCKETS: sourceList,
        RESULT_STORAGE_BUCKET: { Ref: "ResultBucket" },
        SECRETS_MANAGER: generateSecret ? when("GenerateSigningSecret", { Ref: "SigningSecret" }, "")
          : signature ? existing : "",
        SECRET_KEY: signature && existing ? params.secretsManagerKey : "",
        ORIGIN_SECRET: { Ref: "OriginSecret" },
      };
  env.ALLOW_UNSAFE_URL = unsafe;
  env.LOADERS = http ? "s3,http" : "";
  env.ALLOWED_SOURCES = sources.includes("*") ? "" : sources.join(",");
  env.MAX_SOURCE_PIXELS = String(maxSourcePixels);

  const formats = [];
  if (params.autoAvif === "Yes") formats.push("image/avif");
  if (params.autoWebp === "Yes") formats.push("image/webp");

  const webAcl = wafRateLimit ? when("CreateWebAcl", { "Fn::GetAtt": ["WebAcl", "Arn"] })
    : params.webAclArn || NO_VALUE;
  const shieldConfig = shield ? { Enabled: true, OriginShieldRegion: shield } : NO_VALUE;

  return {
    env,
    bucketPrefix: prefix,
    logRetentionDays,
    resultTtlDays,
    sourceObjects,
    sourceBuckets,
    signingPolicy,
    fallbackPolicy,
    acceptFormats: JSON.stringify(formats),
    // The query strings that change an answer, in the cache key and passed on to the function:
    // SIH's signature (and, with sihCompat=Yes, its v7 edits and expiry), meta/'s JSONP callback.
    queryStrings: params.sihCompat === "Yes" ? ["callback", ...SIH_QUERY] : ["callback", "signature"],
    normalisedQuery: params.sihCompat === "Yes" ? JSON.stringify(["callback", ...SIH_QUERY]) : "null",
    aliases: aliases.length ? aliases : NO_VALUE,
    viewerCertificate: aliases.length
      ? { AcmCertificateArn: params.certificateArn, SslSupportMethod: "sni-only", MinimumProtocolVersion: "TLSv1.2_2021" }
      : { CloudFrontDefaultCertificate: true },
    url: aliases.length ? `https://${aliases[0]}` : { "Fn::Sub": "https://${Distribution.DomainName}" },
    playgroundUrl: aliases.length ? `https://${aliases[0]}/playground/index.html`
      : { "Fn::Sub": "https://${Distribution.DomainName}/playground/index.html" },
    playgroundCsp: PLAYGROUND_CSP,
    reservedConcurrency: reserved === null ? NO_VALUE : reserved,
    reservedLabel: reserved === null ? "none" : String(reserved),
    apiThrottleRate: rate,
    apiThrottleBurst: burst,
    // The web ACL exists only when wafRateLimit > 0; 100 stands in for 0 where it does not.
    wafRateLimit: wafRateLimit || 100,
    webAcl,
    originShield: shieldConfig,
    alarmSubscription: params.alarmEmail ? [{ Protocol: "email", Endpoint: params.alarmEmail }] : NO_VALUE,
    snapStart,
    flags: {
      createSourceBucket: yes(createSource),
      generateSigningSecret: yes(generateSecret),
      createWebAcl: yes(wafRateLimit > 0),
    },
  };
}

// Called for every reference (osls may call before the params can be resolved, and again later:
// so nothing is cached here).
module.exports.computed = compute;
module.exports.ParamError = ParamError;
