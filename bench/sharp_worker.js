// The sharp (libvips) side of the benchmark; the protocol is described in bench/worker.py.
//   node bench/sharp_worker.js JOBS.json
// Single-threaded and uncached on purpose: one libvips thread (sharp.concurrency(1)) and
// no operation cache, so a repeated job is computed again like a new request would be.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const sharp = require(path.join(__dirname, "node_modules", "sharp"));

sharp.concurrency(1);
sharp.cache(false);

const jobs = new Map(JSON.parse(fs.readFileSync(process.argv[2], "utf8")).map((j) => [j.id, j]));
const originals = new Map();

// The peak of this process's own memory map: getrusage's maxrss would also count the parent's
// memory that fork copied before exec.
function rssKb() {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) : process.resourceUsage().maxRSS;
}

function original(job) {
  if (!originals.has(job.input)) originals.set(job.input, fs.readFileSync(job.input));
  return originals.get(job.input);
}

function pipeline(job) {
  let image = sharp(original(job), { animated: job.animated });
  for (const [method, ...args] of job.sharp) {
    if (method === "extendTo") {
      // Pad to the box, centred: the size after the resize (from our meta/) turned by any
      // quarter rotation before this step.
      const [width, height, background] = args;
      const turned = job.sharp.some(([m, angle]) => m === "rotate" && angle % 180 === 90);
      const [w, h] = turned ? [job.size[1], job.size[0]] : job.size;
      const left = Math.floor((width - w) / 2);
      const top = Math.floor((height - h) / 2);
      image = image.extend({
        left, right: width - w - left, top, bottom: height - h - top, background,
      });
      continue;
    }
    if (method === "resize" && typeof args[0].position === "string" && args[0].position in sharp.strategy) {
      args[0] = { ...args[0], position: sharp.strategy[args[0].position] };
    }
    image = image[method](...args);
  }
  return image;
}

async function main() {
  console.log(JSON.stringify({ ready: true, rss_kb: rssKb(), versions: sharp.versions }));
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const message = JSON.parse(line);
    if (message.op === "quit") break;
    if (message.op === "rss") {
      console.log(JSON.stringify({ rss_kb: rssKb() }));
      continue;
    }
    const job = jobs.get(message.id);
    original(job);
    try {
      const started = process.hrtime.bigint();
      const body = await pipeline(job).toBuffer();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (message.out) fs.writeFileSync(message.out, body);
      console.log(JSON.stringify({ ms, bytes: body.length }));
    } catch (error) {
      console.log(JSON.stringify({ error: String(error) }));
    }
  }
  process.exit(0);
}

main();
