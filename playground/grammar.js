// Thumbor's URL grammar, writing side: Params (the JSON that /params/ answers) to the canonical
// path, as thumbor_urls/grammar.py's generate() writes it. Reading pasted URLs is the server's
// job (/params/); this side exists so that the page updates the URL on every keystroke without
// a request. tests/test_playground_browser.py checks it against the Python generator.

// The options, in grammar.py's _OPTIONS order; every part optional, so it always matches.
const OPTIONS = new RegExp(
  "^(?:(?<debug>debug)/)?" +
    "(?:(?<meta>meta)/)?" +
    "(?:(?<trim>trim(?::(?<trim_corner>top-left|bottom-right))?(?::(?<trim_tol>\\d+))?)/)?" +
    "(?:(?<crop_left>\\d+)x(?<crop_top>\\d+):(?<crop_right>\\d+)x(?<crop_bottom>\\d+)/)?" +
    "(?:(?<adaptive>adaptive-)?(?<full>full-)?(?<fit_in>fit-in)/)?" +
    "(?:(?<hflip>-)?(?<width>\\d+|orig)?x(?<vflip>-)?(?<height>\\d+|orig)?/)?" +
    "(?:(?<halign>left|right|center)/)?" +
    "(?:(?<valign>top|bottom|middle)/)?" +
    "(?:(?<smart>smart)/)?",
);
const FILTER_NAME = /^[A-Za-z_][A-Za-z0-9_]*\(/;

export const FIELDS = [
  "debug", "meta", "trim", "trim_corner", "trim_tolerance", "crop", "fit_in", "full",
  "adaptive", "width", "height", "horizontal_flip", "vertical_flip", "halign", "valign",
  "smart", "filters", "image",
];

export class GrammarError extends Error {}

/** Params with every part at its default, for `image`. */
export function emptyParams(image = "") {
  return {
    image, debug: false, meta: false, trim: false, trim_corner: null, trim_tolerance: 0,
    crop: null, fit_in: false, full: false, adaptive: false, width: null, height: null,
    horizontal_flip: false, vertical_flip: false, halign: "center", valign: "middle",
    smart: false, filters: [],
  };
}

/** A filter call as the URL writes it. */
export function filterText(filter) {
  return `${filter.name}(${(filter.args || []).join(",")})`;
}

function parts(p, explicitMiddle) {
  const out = [];
  if (p.debug) out.push("debug");
  if (p.meta) out.push("meta");
  if (p.trim) {
    const trim = ["trim"];
    if (p.trim_corner) trim.push(p.trim_corner);
    if (p.trim_tolerance) trim.push(String(p.trim_tolerance));
    out.push(trim.join(":"));
  }
  if (p.crop) out.push(`${p.crop.left}x${p.crop.top}:${p.crop.right}x${p.crop.bottom}`);
  if (p.fit_in) out.push(`${p.adaptive ? "adaptive-" : ""}${p.full ? "full-" : ""}fit-in`);
  if (p.width !== null || p.height !== null || p.horizontal_flip || p.vertical_flip) {
    const width = p.width === null ? "" : String(p.width);
    const height = p.height === null ? "" : String(p.height);
    out.push(`${p.horizontal_flip ? "-" : ""}${width}x${p.vertical_flip ? "-" : ""}${height}`);
  }
  if (p.halign !== "center") out.push(p.halign);
  if (p.valign !== "middle" || explicitMiddle) out.push(p.valign);
  if (p.smart) out.push("smart");
  if (p.filters.length) out.push(["filters", ...p.filters.map(filterText)].join(":"));
  return out;
}

/** grammar.py's split_filters: `NAME(ARGS):NAME(ARGS)/rest` into calls and the rest. */
export function splitFilters(text) {
  const calls = [];
  let position = 0;
  for (;;) {
    const match = FILTER_NAME.exec(text.slice(position));
    if (!match) throw new GrammarError(`malformed filters near '${text.slice(position, position + 40)}'`);
    const name = match[0].slice(0, -1);
    let depth = 0;
    let quoted = false;
    const args = [];
    let start = position + match[0].length;
    let index = start;
    let closed = false;
    for (; index < text.length; index++) {
      const char = text[index];
      if (char === "'") quoted = !quoted;
      else if (!quoted && (char === "(" || char === "[")) depth++;
      else if (!quoted && char === "]") depth--;
      else if (!quoted && char === ")") {
        if (depth === 0) { closed = true; break; }
        depth--;
      } else if (!quoted && char === "," && depth === 0) {
        args.push(text.slice(start, index));
        start = index + 1;
      }
    }
    if (!closed) throw new GrammarError(`filter ${name}( is not closed`);
    args.push(text.slice(start, index));
    calls.push({ name, args: args.length === 1 && args[0] === "" ? [] : args });
    position = index + 1;
    if (text[position] === ":") { position++; continue; }
    if (text[position] === "/") return [calls, text.slice(position + 1)];
    throw new GrammarError(`expected ':' or '/' after ${name}(...) in filters`);
  }
}

function number(text) {
  return text === undefined ? null : Number(text);
}

function dimension(text) {
  if (text === undefined) return null;
  return text === "orig" ? "orig" : Number(text);
}

/** grammar.py's parse, for generate()'s own check (pasted URLs go to the server's /params/). */
export function parse(path) {
  let rest = path.replace(/^\/+/, "");
  const match = OPTIONS.exec(rest);
  const g = match.groups;
  rest = rest.slice(match[0].length);
  let filters = [];
  if (rest.startsWith("filters:")) [filters, rest] = splitFilters(rest.slice("filters:".length));
  if (!rest) throw new GrammarError("the URL names no image");
  const crop = g.crop_left === undefined ? null : {
    left: number(g.crop_left), top: number(g.crop_top),
    right: number(g.crop_right), bottom: number(g.crop_bottom),
  };
  return {
    image: rest, debug: !!g.debug, meta: !!g.meta, trim: !!g.trim,
    trim_corner: g.trim_corner || null, trim_tolerance: number(g.trim_tol || "0"), crop,
    fit_in: !!g.fit_in, full: !!g.full, adaptive: !!g.adaptive,
    width: dimension(g.width), height: dimension(g.height),
    horizontal_flip: !!g.hflip, vertical_flip: !!g.vflip,
    halign: g.halign || "center", valign: g.valign || "middle", smart: !!g.smart, filters,
  };
}

// JSON with object keys in order: the same value compares equal however it was built.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function same(a, b) {
  return canonical(a) === canonical(b);
}

function misread(path, params) {
  let got;
  try {
    got = parse(path);
  } catch (error) {
    if (error instanceof GrammarError) return error.message;
    throw error;
  }
  for (const field of FIELDS) {
    const wanted = field === "filters"
      ? params.filters.map((f) => ({ name: f.name, args: [...(f.args || [])] }))
      : params[field];
    if (!same(wanted, got[field])) {
      return `${field} ${JSON.stringify(wanted)} would read back as ${JSON.stringify(got[field])} from '${path}'`;
    }
  }
  return "";
}

/** The canonical path of `params` (no leading slash, no unsafe/ or signature); GrammarError
 * when no path says it. An image that starts like an option gets `middle/` in front of it. */
export function generate(params) {
  let path = [...parts(params, false), params.image].join("/");
  const problem = misread(path, params);
  if (!problem) return path;
  if (params.valign === "middle") {
    path = [...parts(params, true), params.image].join("/");
    if (!misread(path, params)) return path;
  }
  throw new GrammarError(`no Thumbor path says this: ${problem}`);
}

// What a browser percent-encodes in a path (WHATWG URL's path percent-encode set), and `%`
// itself, since the server decodes the path once: everything else is written as it is, so the
// URL reads as libthumbor writes it.
const PATH_ENCODED = /[\u{0}-\u{20}"#<>?`{}%\u{7f}-\u{10ffff}]/u;

/** `path` as it goes into a URL. */
export function encodePath(path) {
  let out = "";
  for (const char of path) {
    out += PATH_ENCODED.test(char) ? encodeURIComponent(char) : char;
  }
  return out;
}
