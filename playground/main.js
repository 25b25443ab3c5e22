// The playground: controls -> Params -> URL -> result, and a pasted URL -> Params -> controls.
// Plain ES modules, no build step: each module has one job (grammar.js writes paths,
// filters.js edits the filter list, crop.js draws a crop, overlay.js draws meta/, sih.js
// writes SIH requests, server.js knows what the server offers).

import { emptyParams, generate, GrammarError } from "./grammar.js";
import { FilterEditor } from "./filters.js";
import { CropTool } from "./crop.js";
import { drawShapes, metaShapes, resetOverlay } from "./overlay.js";
import {
  hasSihQuery, isSihPath, readSihPath, readSihQuery, sihDocument, sihPath, sihQuery,
  sihQueryProblems, sihValues,
} from "./sih.js";
import { Server, loadCatalog, readParams } from "./server.js";

const $ = (id) => document.getElementById(id);
const PREVIEW = 640; // the original is shown as fit-in/640x640: light, and upright
const SHOWN_HEADERS = ["Content-Type", "Content-Length", "Cache-Control", "Vary", "ETag", "Last-Modified"];

const state = {
  server: null,
  mode: "thumbor",
  sihStyle: "default", // SIH's base64 "default" request, or v7's "query" parameters
  original: null, // {key, width, height}
  listed: new Map(), // key -> {bytes, format}, from the listing
  nextOffset: 0,
  sequence: 0, // the latest update; older answers are dropped
  resultUrl: null, // the blob: URL shown
};

function announce(text) {
  $("url-status").textContent = text;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function formatBytes(bytes) {
  return `${Number(bytes).toLocaleString("en")} bytes`;
}

// --- controls <-> Params -------------------------------------------------------------------

function wholeNumber(id, what, problems) {
  const text = $(id).value.trim();
  if (text === "") return null;
  if (!/^\d+$/.test(text)) {
    problems.push(`${what}: a whole number of 0 or more`);
    return null;
  }
  return Number(text);
}

/** The Params the controls say, and what is wrong with them. */
function readControls(editor) {
  const problems = [];
  const p = emptyParams($("image-key").value.trim().replace(/^\/+/, ""));
  if (!p.image) problems.push("Image key: required");
  p.width = $("width-orig").checked ? "orig" : wholeNumber("width", "Width", problems);
  p.height = $("height-orig").checked ? "orig" : wholeNumber("height", "Height", problems);
  p.horizontal_flip = $("flip-h").checked;
  p.vertical_flip = $("flip-v").checked;
  const fit = $("fit").value;
  p.fit_in = fit !== "";
  p.full = fit.includes("full-");
  p.adaptive = fit.startsWith("adaptive-");
  p.halign = $("halign").value;
  p.valign = $("valign").value;
  p.smart = $("smart").checked;
  p.trim = $("trim").checked;
  if (p.trim) {
    p.trim_corner = $("trim-corner").value || null;
    p.trim_tolerance = wholeNumber("trim-tolerance", "Trim tolerance", problems) ?? 0;
  }
  if ($("crop").checked) {
    const box = {};
    for (const side of ["left", "top", "right", "bottom"]) {
      box[side] = wholeNumber(`crop-${side}`, `Crop ${side}`, problems);
      if (box[side] === null) problems.push(`Crop ${side}: required`);
    }
    if (!problems.some((m) => m.startsWith("Crop"))) p.crop = box;
  }
  p.meta = $("meta").checked;
  p.debug = $("debug").checked;
  p.filters = editor.filters;
  problems.push(...editor.problems);
  return { params: p, problems };
}

/** Set every control from `p` (Params, as /params/ answers them). */
function fillControls(p, editor) {
  $("image-key").value = p.image;
  $("width-orig").checked = p.width === "orig";
  $("width").value = p.width === null || p.width === "orig" ? "" : p.width;
  $("height-orig").checked = p.height === "orig";
  $("height").value = p.height === null || p.height === "orig" ? "" : p.height;
  $("flip-h").checked = p.horizontal_flip;
  $("flip-v").checked = p.vertical_flip;
  $("fit").value = p.fit_in ? `${p.adaptive ? "adaptive-" : ""}${p.full ? "full-" : ""}fit-in` : "";
  $("halign").value = p.halign;
  $("valign").value = p.valign;
  $("smart").checked = p.smart;
  $("trim").checked = p.trim;
  $("trim-corner").value = p.trim_corner || "";
  $("trim-tolerance").value = p.trim_tolerance;
  $("crop").checked = !!p.crop;
  for (const side of ["left", "top", "right", "bottom"]) $(`crop-${side}`).value = p.crop ? p.crop[side] : "";
  $("meta").checked = p.meta;
  $("debug").checked = p.debug;
  editor.load(p.filters);
}

function readSihForm() {
  const values = {
    bucket: $("sih-bucket").value.trim(), key: $("image-key").value.trim().replace(/^\/+/, ""),
    width: $("sih-width").value.trim(), height: $("sih-height").value.trim(), fit: $("sih-fit").value,
    background: $("sih-background").value.trim(), format: $("sih-format").value,
    quality: $("sih-quality").value.trim(), rotate: $("sih-rotate").value,
    grayscale: $("sih-grayscale").checked, flip: $("sih-flip").checked, flop: $("sih-flop").checked,
  };
  const problems = [];
  if (!values.key) problems.push("Image key: required");
  for (const [name, label] of [["width", "Width"], ["height", "Height"]]) {
    if (values[name] !== "" && !/^\d+$/.test(values[name])) problems.push(`${label}: a whole number of 0 or more`);
  }
  if (values.quality !== "" && !(/^\d+$/.test(values.quality) && values.quality >= 1 && values.quality <= 100)) {
    problems.push("Quality: a whole number from 1 to 100");
  }
  return { document: sihDocument(values), problems };
}

function fillSihForm(document) {
  const v = sihValues(document);
  $("image-key").value = v.key;
  $("sih-bucket").value = v.bucket;
  $("sih-width").value = v.width;
  $("sih-height").value = v.height;
  $("sih-fit").value = v.fit;
  $("sih-background").value = v.background;
  $("sih-format").value = v.format;
  $("sih-quality").value = v.quality;
  $("sih-rotate").value = v.rotate;
  $("sih-grayscale").checked = v.grayscale;
  $("sih-flip").checked = v.flip;
  $("sih-flop").checked = v.flop;
}

// The query form's controls, by parameter: selects, text fields and checkboxes.
const QUERY_CONTROLS = {
  format: "sih-q-format", fit: "sih-q-fit", width: "sih-q-width", height: "sih-q-height",
  rotate: "sih-q-rotate", flip: "sih-q-flip", flop: "sih-q-flop", grayscale: "sih-q-grayscale",
  expires: "sih-q-expires",
};

/** v7's query on the image's path: the path, the query string, and what is wrong. */
function readSihQueryForm() {
  const key = $("image-key").value.trim().replace(/^\/+/, "");
  const values = {};
  for (const [name, id] of Object.entries(QUERY_CONTROLS)) {
    values[name] = $(id).type === "checkbox" ? $(id).checked : $(id).value.trim();
  }
  const problems = key ? [] : ["Image key: required"];
  problems.push(...sihQueryProblems(values));
  return { path: `/${key}`, query: sihQuery(values), problems };
}

function fillSihQueryForm(values) {
  for (const [name, id] of Object.entries(QUERY_CONTROLS)) {
    const control = $(id);
    if (control.type === "checkbox") {
      control.checked = values[name];
      continue;
    }
    // A pasted value the list does not offer is kept, so that its problem is shown, not lost
    // (until the next paste).
    if (control.tagName === "SELECT") {
      for (const option of control.querySelectorAll("option[data-pasted]")) option.remove();
      if (![...control.options].some((o) => o.value === values[name])) {
        const option = new Option(`${values[name]} (not offered)`, values[name]);
        option.dataset.pasted = "true";
        control.append(option);
      }
    }
    control.value = values[name];
  }
}

function setMode(mode) {
  state.mode = mode;
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.checked = radio.value === mode;
  $("thumbor-form").hidden = mode !== "thumbor";
  $("sih-form").hidden = mode !== "sih";
}

function setSihStyle(style) {
  state.sihStyle = style;
  for (const radio of document.querySelectorAll("input[name=sih-style]")) radio.checked = radio.value === style;
  $("sih-default").hidden = style !== "default";
  $("sih-query").hidden = style !== "query";
}

// --- the original ----------------------------------------------------------------------------

async function showOriginal(key) {
  if (!key || state.original?.key === key) return;
  state.original = { key, width: 0, height: 0 };
  if (state.listed.has(key)) $("image-picker").value = key;
  const info = $("original-info");
  info.textContent = `Loading ${key}…`;
  let metaUrl;
  let previewUrl;
  try {
    const base = emptyParams(key);
    metaUrl = await state.server.thumborUrl(generate({ ...base, meta: true }));
    previewUrl = await state.server.thumborUrl(generate({ ...base, fit_in: true, width: PREVIEW, height: PREVIEW }));
  } catch (error) {
    info.textContent = `The original cannot be shown: ${error.message}`;
    return;
  }
  const response = await fetch(metaUrl);
  const body = await response.json().catch(() => null);
  if (state.original?.key !== key) return;
  if (!response.ok || !body?.thumbor) {
    info.textContent = `The original cannot be shown: ${body?.message || response.status}`;
    $("original").removeAttribute("src");
    return;
  }
  const source = body.thumbor.source;
  state.original = { key, width: source.width, height: source.height };
  resetOverlay($("original-overlay"), source.width, source.height);
  $("original").src = previewUrl;
  $("original").alt = `The original, ${key}`;
  const listed = state.listed.get(key);
  const frames = source.frameCount > 1 ? `, ${source.frameCount} frames` : "";
  const detail = listed
    ? `${listed.format}, ${formatBytes(listed.bytes)}`
    : "format and bytes are known only where the server lists its images";
  info.textContent = `${key}: ${source.width}×${source.height}${frames}, ${detail}`;
  info.dataset.width = source.width;
  info.dataset.height = source.height;
}

// --- the request ---------------------------------------------------------------------------

function showProblems(problems) {
  const box = $("problems");
  box.replaceChildren();
  if (!problems.length) return;
  const list = document.createElement("ul");
  for (const problem of problems) {
    const item = document.createElement("li");
    item.textContent = problem;
    list.append(item);
  }
  box.append(Object.assign(document.createElement("p"), { textContent: "Not sent:" }), list);
}

function showSigningHelp(why) {
  $("signing-help").hidden = !why;
  $("signing-why").textContent = why || "";
}

function setUrl(urlPath) {
  // Not new URL(...).href: Chromium would percent-encode `|` and others the server takes as
  // they are, and the URL would no longer read as libthumbor writes it.
  const absolute = location.origin + urlPath;
  $("url").value = absolute;
  $("open-url").href = absolute;
}

async function update(editor) {
  const sequence = ++state.sequence;
  const current = () => sequence === state.sequence;
  let urlPath;
  let params = null;
  const sihQueryStyle = state.mode === "sih" && state.sihStyle === "query";
  const read = sihQueryStyle ? readSihQueryForm : state.mode === "sih" ? readSihForm : readControls;
  const { problems, ...built } = read(editor);
  await showOriginal($("image-key").value.trim().replace(/^\/+/, ""));
  try {
    if (sihQueryStyle) {
      urlPath = await state.server.sihUrl(built.path, built.query);
    } else if (state.mode === "sih") {
      urlPath = await state.server.sihUrl(sihPath(built.document));
    } else {
      params = built.params;
      const path = generate(params);
      urlPath = await state.server.thumborUrl(path);
    }
  } catch (error) {
    // GrammarError: no path says this; Error: the server would not sign it.
    problems.push(error instanceof GrammarError ? error.message : `Signing: ${error.message}`);
  }
  if (!current()) return;
  if (urlPath) setUrl(urlPath);
  showProblems(problems);
  if (problems.length) {
    announce("The URL is not sent until the problems listed are fixed.");
    return;
  }
  await showResult(urlPath, params, current);
}

async function showResult(urlPath, params, current) {
  announce("Loading…");
  const started = performance.now();
  let response;
  let blob;
  try {
    response = await fetch(urlPath);
    blob = await response.blob();
  } catch (error) {
    if (current()) showError(`The request failed: ${error.message}`);
    return;
  }
  const ms = Math.round(performance.now() - started);
  if (!current()) return;
  showHeaders(response.headers);
  const type = response.headers.get("Content-Type") || "";
  const image = $("result");
  $("result-json").hidden = true;
  if (!response.ok || type.startsWith("application/json")) {
    const text = await blob.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: shown as text
    }
    if (!response.ok) {
      image.removeAttribute("src");
      const message = body?.message ? `${response.status} ${body.code}: ${body.message}` : `${response.status}: ${text}`;
      showError(message);
      image.dataset.url = urlPath;
      const unsigned = ["UnsafeUrlNotAllowed", "SignatureDoesNotMatch", "AuthorizationQueryParametersError"].includes(body?.code);
      showSigningHelp(unsigned && !state.server.signs ? state.server.config.signing?.why : "");
      $("result-info").textContent = `${response.status} in ${ms} ms`;
      announce(`Error: ${message}`);
      return;
    }
    hideError();
    image.removeAttribute("src");
    $("result-json").hidden = false;
    $("result-json").textContent = JSON.stringify(body, null, 2);
    image.dataset.state = "json";
    image.dataset.url = urlPath;
    $("result-info").textContent = `${type}, ${formatBytes(blob.size)}, ${ms} ms`;
    if (body?.thumbor && params) drawMeta(body.thumbor, params);
    announce("meta/ answered.");
    return;
  }
  hideError();
  showSigningHelp("");
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = URL.createObjectURL(blob);
  image.src = state.resultUrl;
  try {
    await image.decode();
  } catch {
    // a format this browser cannot show: the size stays unknown
  }
  if (!current()) return;
  const format = type.replace(/^image\//, "");
  const size = image.naturalWidth ? `${image.naturalWidth}×${image.naturalHeight}` : "size unknown";
  image.alt = `The result: ${size}, ${format}`;
  image.dataset.state = "loaded";
  image.dataset.url = urlPath;
  $("result-info").textContent = `${size}, ${format}, ${formatBytes(blob.size)}, answered in ${ms} ms`;
  announce(`Result: ${size}, ${format}, ${formatBytes(blob.size)}.`);
  if (params) await showMetaOf(params, current);
}

async function showMetaOf(params, current) {
  let response;
  try {
    const url = await state.server.thumborUrl(generate({ ...params, meta: true, debug: false }));
    response = await fetch(url);
  } catch {
    return;
  }
  const body = await response.json().catch(() => null);
  if (current() && response.ok && body?.thumbor) drawMeta(body.thumbor, params);
}

function drawMeta(thumbor, params) {
  const original = state.original;
  if (!original?.width) return;
  const svg = $("original-overlay");
  resetOverlay(svg, original.width, original.height);
  const scale = original.width / Math.max(1, $("original").getBoundingClientRect().width);
  drawShapes(svg, metaShapes(thumbor, params), scale);
  const ignored = thumbor.ignored_filters || [];
  if (ignored.length) {
    showProblems(ignored.map((f) => `Ignored by the server: ${f.filter}: ${f.reason}`));
  }
}

function showHeaders(headers) {
  const list = $("result-headers");
  list.replaceChildren();
  for (const name of SHOWN_HEADERS) {
    const value = headers.get(name);
    if (value === null) continue;
    list.append(Object.assign(document.createElement("dt"), { textContent: name }));
    list.append(Object.assign(document.createElement("dd"), { textContent: value }));
  }
}

function showError(message) {
  const box = $("error");
  box.hidden = false;
  box.textContent = message;
  $("result").dataset.state = "error";
}

function hideError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// --- a pasted URL --------------------------------------------------------------------------

/** The path of a pasted URL, whatever origin it names. */
function pathOf(text) {
  const trimmed = text.trim();
  let url;
  try {
    url = new URL(trimmed, location.origin);
  } catch {
    return { path: trimmed, raw: trimmed, search: "" };
  }
  let path = url.pathname;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    // a stray `%`: read as written
  }
  return { path, raw: url.pathname, search: url.search };
}

// Thumbor's signatures: 28 characters of URL-safe base64 (HMAC-SHA1).
const SIGNATURE = /^[A-Za-z0-9_-]{27}=$/;

async function readUrl(editor, schedule) {
  const { path, raw, search } = pathOf($("url").value);
  // Without SIH_COMPAT the server reads a query as Thumbor does (not at all): so does the page.
  const sihQueried = state.server.config.sih && hasSihQuery(search);
  if (isSihPath(raw) && !state.server.config.sih) {
    showProblems([$("sih-off").textContent.replace(/\s+/g, " ")]);
    announce("The URL was not read: this server does not answer SIH requests.");
    return;
  }
  if (isSihPath(raw)) {
    try {
      fillSihForm(readSihPath(raw));
    } catch (error) {
      showProblems([`Not an SIH request: ${error.message}`]);
      return;
    }
    setMode("sih");
    setSihStyle("default");
    // v7 merges a query's edits into the document's; this form writes them on image paths.
    const note = sihQueried ? " Its query parameters were left out." : "";
    announce(`The SIH request's edits are in the form.${note}`);
    schedule();
    return;
  }
  if (sihQueried) {
    // The image's path: as sent, less unsafe/ or a Thumbor signature (this page signs as SIH).
    const segments = path.replace(/^\/+/, "").split("/");
    if (segments[0] === "unsafe" || SIGNATURE.test(segments[0])) segments.shift();
    const { values, left } = readSihQuery(search);
    $("image-key").value = segments.join("/");
    fillSihQueryForm(values);
    setMode("sih");
    setSihStyle("query");
    const note = left.length ? ` Not read: ${left.join(", ")}.` : "";
    announce(`The query parameters are in the controls.${note}`);
    schedule();
    return;
  }
  // After unsafe/ or the signature: this page asks as it would ask for the image (re-signed
  // where it signs; a signed URL pasted on a page that does not sign is asked as written).
  const whole = path.replace(/^\/+/, "");
  const first = whole.split("/")[0];
  const signed = SIGNATURE.test(first);
  // A path pasted without unsafe/ or a signature is the options and the image alone.
  const rest = first === "unsafe" || signed ? whole.slice(first.length + 1) : whole;
  let urlPath;
  try {
    urlPath = signed && !state.server.signs ? raw + search : await state.server.thumborUrl(rest);
  } catch (error) {
    showProblems([error.message]);
    return;
  }
  const { params, error } = await readParams(urlPath);
  if (error) {
    showProblems([`The server cannot read this URL: ${error.code}: ${error.message}`]);
    announce(`The URL was not read: ${error.message}`);
    return;
  }
  setMode("thumbor");
  fillControls(params, editor);
  announce("The URL's parts are in the controls.");
  schedule();
}

// --- the listing ---------------------------------------------------------------------------

async function listMore() {
  const page = await state.server.images(state.nextOffset);
  if (!page) return;
  $("picker").hidden = false;
  const picker = $("image-picker");
  for (const image of page.images) {
    state.listed.set(image.key, image);
    picker.append(Object.assign(document.createElement("option"), { value: image.key, textContent: `${image.key} (${image.format}, ${formatBytes(image.bytes)})` }));
    $("image-keys").append(Object.assign(document.createElement("option"), { value: image.key }));
  }
  state.nextOffset = page.next_offset;
  $("more-images").hidden = page.next_offset === null;
}

// --- start ---------------------------------------------------------------------------------

async function start() {
  state.server = await Server.connect();
  const config = state.server.config;
  const editor = new FilterEditor({
    list: $("filter-list"), picker: $("filter-picker"), addButton: $("add-filter"), announce,
    onChange: () => schedule(),
  });
  editor.setImageList("image-keys");
  const schedule = debounce(() => update(editor), 250);
  try {
    editor.setCatalog(await loadCatalog());
  } catch (error) {
    showProblems([`The filter list could not be loaded: ${error.message}`]);
  }
  const where = config.mode === "local" ? "this local server" : "this deployment";
  $("server-note").textContent = `Every part of a Thumbor URL and every filter of ${where}. ${config.signing?.why || ""}`;

  for (const control of document.querySelectorAll("#thumbor-form input, #thumbor-form select, #sih-form input, #sih-form select, #image-key")) {
    if (control.closest("#filter-list") || control.id === "filter-picker") continue;
    control.addEventListener("input", schedule);
    control.addEventListener("change", schedule);
  }
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => { setMode(radio.value); schedule(); });
  }
  for (const radio of document.querySelectorAll("input[name=sih-style]")) {
    radio.addEventListener("change", () => { setSihStyle(radio.value); schedule(); });
  }
  if (!config.sih) {
    // The server would read SIH's requests by Thumbor's rules: the mode is off, and says why.
    const sih = document.querySelector("input[name=mode][value=sih]");
    sih.disabled = true;
    // Described only now: a hidden description would still be read out.
    sih.setAttribute("aria-describedby", "sih-off");
    $("sih-off").hidden = false;
    if (config.mode !== "local") {
      $("sih-off").textContent = "This deployment answers SIH requests only when deployed with "
        + "SIH compatibility on (the stack's sihCompat parameter, SIH_COMPAT=true).";
    }
  }
  $("image-picker").addEventListener("change", () => {
    $("image-key").value = $("image-picker").value;
    schedule();
  });
  $("more-images").addEventListener("click", listMore);
  $("read-url").addEventListener("click", () => readUrl(editor, schedule));
  $("url").addEventListener("paste", () => setTimeout(() => readUrl(editor, schedule), 0));
  $("url").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      readUrl(editor, schedule);
    }
  });
  $("copy-url").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("url").value);
      announce("Copied.");
    } catch {
      $("url").select();
      announce("Selected: copy with Ctrl+C.");
    }
  });
  new CropTool({
    stage: $("original-stage"), image: $("original"), svg: $("original-overlay"),
    size: () => (state.original?.width ? [state.original.width, state.original.height] : null),
    onCrop: (box) => {
      $("crop").checked = true;
      for (const side of ["left", "top", "right", "bottom"]) $(`crop-${side}`).value = box[side];
      announce(`Crop ${box.left}x${box.top}:${box.right}x${box.bottom}.`);
      schedule();
    },
  });

  await listMore();
  if (!$("image-key").value) {
    $("image-key").value = state.listed.keys().next().value || "astronaut.jpg";
  }
  if (!$("width").value && !$("height").value) {
    $("fit").value = "fit-in";
    $("width").value = 300;
    $("height").value = 300;
  }
  document.body.dataset.ready = "true";
  await update(editor);
}

start();
