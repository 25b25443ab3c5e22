// AWS Serverless Image Handler's requests, as the service reads them with SIH_COMPAT
// (thumbor_urls/sih/): default requests, {"bucket", "key", "edits"} as JSON in base64 as the
// whole path, and v7's query parameters on the image's path (`/key?width=300&format=webp`).

/** The document for the form's `values` ({bucket, key, width, height, fit, background,
 * format, quality, rotate, grayscale, flip, flop}). */
export function sihDocument(values) {
  const edits = {};
  const resize = {};
  if (values.width !== "") resize.width = Number(values.width);
  if (values.height !== "") resize.height = Number(values.height);
  if (Object.keys(resize).length) {
    if (values.fit) resize.fit = values.fit;
    if (values.fit === "contain" && values.background) resize.background = values.background;
    edits.resize = resize;
  }
  if (values.format) edits.toFormat = values.format;
  if (values.quality !== "") edits[values.format || "jpeg"] = { quality: Number(values.quality) };
  if (values.rotate) edits.rotate = Number(values.rotate);
  if (values.grayscale) edits.grayscale = true;
  if (values.flip) edits.flip = true;
  if (values.flop) edits.flop = true;
  const document = {};
  if (values.bucket) document.bucket = values.bucket;
  document.key = values.key;
  if (Object.keys(edits).length) document.edits = edits;
  return document;
}

/** The path of a document: `/` and its JSON in base64 (UTF-8). */
export function sihPath(document) {
  const bytes = new TextEncoder().encode(JSON.stringify(document));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `/${btoa(binary)}`;
}

/** Whether `path` is an SIH request, as the service tells them apart ('{"' is "eyJ"). */
export function isSihPath(path) {
  return /^eyJ[0-9a-zA-Z+/]*={0,2}$/.test(path.replace(/^\/+/, ""));
}

/** The document in an SIH path (Error when it is not one). */
export function readSihPath(path) {
  const text = path.replace(/^\/+/, "");
  const binary = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const document = JSON.parse(new TextDecoder().decode(bytes));
  if (!document || typeof document.key !== "string") throw new Error('an SIH request needs a "key"');
  return document;
}

/** The form's values for a document (what sihDocument would make it from). */
export function sihValues(document) {
  const edits = document.edits || {};
  const resize = edits.resize || {};
  const format = edits.toFormat || "";
  const options = edits[format || "jpeg"] || {};
  return {
    bucket: document.bucket || "", key: document.key,
    width: resize.width ?? "", height: resize.height ?? "", fit: resize.fit || "",
    background: typeof resize.background === "string" ? resize.background : "",
    format, quality: options.quality ?? "", rotate: edits.rotate ? String(edits.rotate) : "",
    grayscale: !!edits.grayscale, flip: !!edits.flip, flop: !!edits.flop,
  };
}

// --- v7's query parameters -------------------------------------------------------------------

// The parameters v7 reads (query-param-mapper.ts, thumbor_urls/sih/request.py), in the order
// the page writes them; `greyscale` is read as `grayscale`, `signature` is the signing's.
export const QUERY_NAMES = ["format", "fit", "width", "height", "rotate", "flip", "flop", "grayscale", "expires"];
const ALIASES = { greyscale: "grayscale" };
const BOOLEANS = new Set(["flip", "flop", "grayscale"]);
// The formats the service writes on an image path (codecs.py less the optional HEIF), and
// sharp's fits; `jpg` is SIH's other name for jpeg.
export const QUERY_FORMATS = ["jpeg", "png", "webp", "avif", "gif"];
const FORMAT_ALIASES = { jpg: "jpeg" };
export const QUERY_FITS = ["cover", "contain", "fill", "inside", "outside"];

/** Whether a URL's query (`?a=b...`) has a parameter that makes it an SIH v7 request. */
export function hasSihQuery(search) {
  for (const name of new URLSearchParams(search).keys()) {
    if (QUERY_NAMES.includes(ALIASES[name] || name)) return true;
  }
  return false;
}

/** The form's values from a URL's query (the last of a repeated parameter wins, as the server
 * reads it), and the parameters it leaves out (the signature, unknown ones). */
export function readSihQuery(search) {
  const values = { format: "", fit: "", width: "", height: "", rotate: "", flip: false, flop: false, grayscale: false, expires: "" };
  const left = [];
  for (const [given, value] of new URLSearchParams(search)) {
    const name = ALIASES[given] || given;
    if (!QUERY_NAMES.includes(name)) {
      if (given !== "signature") left.push(given);
    } else if (BOOLEANS.has(name)) {
      values[name] = !["0", "false", ""].includes(value.toLowerCase()); // SIH's reading
    } else if (name === "format") {
      values.format = FORMAT_ALIASES[value.toLowerCase()] || value.toLowerCase();
    } else {
      values[name] = value;
    }
  }
  return { values, left };
}

/** The query string (no `?`) of the form's values: only what is set, so a blank value never
 * reaches the server (where the local server and the Lambda would read it differently). */
export function sihQuery(values) {
  const pairs = [];
  for (const name of QUERY_NAMES) {
    if (BOOLEANS.has(name)) {
      if (values[name]) pairs.push(`${name}=true`);
    } else if (values[name] !== "") {
      pairs.push(`${name}=${encodeURIComponent(values[name])}`);
    }
  }
  return pairs.join("&");
}

// YYYYMMDDTHHmmssZ, as SIH reads `expires`.
const EXPIRES = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** What is wrong with the form's values, as the service would refuse them (`now`: ms). */
export function sihQueryProblems(values, now = Date.now()) {
  const problems = [];
  if (values.format && !QUERY_FORMATS.includes(values.format)) {
    problems.push(`Format: one of ${QUERY_FORMATS.join(", ")} (not ${values.format})`);
  }
  if (values.fit && !QUERY_FITS.includes(values.fit)) {
    problems.push(`Fit: one of ${QUERY_FITS.join(", ")} (not ${values.fit})`);
  }
  for (const [name, label] of [["width", "Width"], ["height", "Height"]]) {
    // 0 is SIH's "not set"; anything else must be a size.
    if (values[name] !== "" && !/^\d+$/.test(values[name])) problems.push(`${label}: a whole number of 0 or more`);
  }
  // SIH turns by any angle; on an image path the service turns as Thumbor does, by right angles.
  if (values.rotate !== "" && !(/^-?\d+$/.test(values.rotate) && Number(values.rotate) % 90 === 0)) {
    problems.push("Rotate: whole degrees, a multiple of 90 (an image path turns by right angles)");
  }
  if (values.expires !== "") {
    const m = EXPIRES.exec(values.expires);
    const when = m && Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6]);
    const real = m && new Date(when).toISOString().replace(/[-:]|\.\d+/g, "") === values.expires;
    if (!real) problems.push("Expires: a real date and time in UTC, YYYYMMDDTHHmmssZ (20300102T120304Z)");
    else if (when < now) problems.push("Expires: already past (SIH answers 400 ImageRequestExpired)");
  }
  return problems;
}
