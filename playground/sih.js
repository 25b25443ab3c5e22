// AWS Serverless Image Handler's default requests: {"bucket", "key", "edits"} as JSON, in
// base64, as the whole path. The service translates them into Thumbor URLs
// (thumbor_urls/aws/sih.py); only the edits it maps are offered here.

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
