// AWS's Serverless Image Handler (Dynamic Image Transformation v7) as a benchmark worker; the
// protocol is bench/worker.py's. Its published handler is not in this repository: bench/sih.py
// bundles it from the install given to `make bench` (--sih DIR) and passes the bundle here.
//   SIH_BUNDLE=/tmp/.../sih-index.js NODE_PATH=DIR/source/image-handler/node_modules \
//     node bench/sih_worker.js JOBS.json
// Each job is one API Gateway REST v1 event for the job's SIH URL, answered from S3 (moto), timed
// from the event to the handler's answer: what its Lambda does per request. sharp runs with the
// handler's own settings (as deployed); the driver pins this process to one core as the others.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const util = require("util");

// The handler logs every request with console.info, and stdout carries this protocol: its log
// goes to stderr instead (formatted all the same, as Lambda's runtime formats it).
for (const name of ["log", "info", "warn", "error", "debug"]) {
  console[name] = (...args) => process.stderr.write(util.format(...args) + "\n");
}
const reply = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const { handler } = require(process.env.SIH_BUNDLE);
const modules = process.env.NODE_PATH;
const sharpVersion = require(path.join(modules, "sharp", "package.json")).version;
const vipsVersion = require(path.join(modules, "sharp")).versions.vips;

const jobs = new Map(JSON.parse(fs.readFileSync(process.argv[2], "utf8")).map((j) => [j.id, j]));

function rssKb() {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) : process.resourceUsage().maxRSS;
}

function event(url) {
  return {
    resource: "/{proxy+}",
    path: url,
    httpMethod: "GET",
    headers: { Accept: "image/jpeg" },
    queryStringParameters: null,
    requestContext: {},
    body: null,
    isBase64Encoded: false,
  };
}

async function main() {
  reply({ ready: true, rss_kb: rssKb(), versions: { "SIH sharp": sharpVersion, "SIH libvips": vipsVersion } });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const message = JSON.parse(line);
    if (message.op === "quit") break;
    if (message.op === "rss") {
      reply({ rss_kb: rssKb() });
      continue;
    }
    const job = jobs.get(message.id);
    try {
      const started = process.hrtime.bigint();
      const answer = await handler(event(job.sih_url));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (answer.statusCode !== 200) {
        reply({ error: `status ${answer.statusCode}: ${String(answer.body).slice(0, 200)}` });
        continue;
      }
      const body = Buffer.from(answer.body, answer.isBase64Encoded ? "base64" : "utf8");
      if (message.out) fs.writeFileSync(message.out, body);
      reply({ ms, bytes: body.length });
    } catch (error) {
      reply({ error: String(error) });
    }
  }
  process.exit(0);
}

main();
