// What the server behind the page offers. The local server answers config.json (listing,
// signing, whether it answers SIH's requests); the deployed page's config.json is written when
// it is uploaded, and without any the page assumes the deployed case: no listing (a typed
// key), no signing.

import { encodePath } from "./grammar.js";

const DEPLOYED = {
  mode: "deployed",
  listing: false,
  sih: false, // a static copy cannot tell: its SIH mode says so rather than fail
  signing: { offered: false, why: "the deployed page never sees the signing key" },
  unsafe: true,
};

async function json(url) {
  const response = await fetch(url, { cache: "no-cache" });
  const type = response.headers.get("Content-Type") || "";
  if (!type.startsWith("application/json")) throw new Error(`${url}: ${response.status}, not JSON`);
  return { ok: response.ok, status: response.status, body: await response.json() };
}

export class Server {
  constructor(config) {
    this.config = config;
  }

  /** The server's offer, from config.json beside the page (the deployed defaults without). */
  static async connect() {
    try {
      const answer = await json("config.json");
      if (answer.ok) return new Server({ ...DEPLOYED, ...answer.body });
    } catch {
      // No config.json: a static copy of the page.
    }
    return new Server(DEPLOYED);
  }

  get signs() {
    return !!this.config.signing?.offered;
  }

  /** The URL path (encoded) that requests the Thumbor `path`: unsafe, or signed here. */
  async thumborUrl(path) {
    if (!this.signs) return `/unsafe/${encodePath(path)}`;
    const answer = await json(`sign?path=${encodeURIComponent(path)}`);
    if (!answer.ok) throw new Error(answer.body.message);
    return encodePath(answer.body.url);
  }

  /** The URL of an SIH request: a default request's `/eyJ...` or an image's path, and v7's
   * `query` (`width=300&...`, encoded); with `?signature=` when signed here. */
  async sihUrl(path, query = "") {
    const url = query ? `${encodePath(path)}?${query}` : encodePath(path);
    if (!this.signs) return url;
    // The server signs the path as it will read it (decoded) and the query as sent.
    const answer = await json(`sign?style=sih&path=${encodeURIComponent(path)}&query=${encodeURIComponent(query)}`);
    if (!answer.ok) throw new Error(answer.body.message);
    return `${url}${query ? "&" : "?"}signature=${answer.body.signature}`;
  }

  /** A page of the served folder's images, or null where the server lists none. */
  async images(offset) {
    if (!this.config.listing) return null;
    const answer = await json(`images.json?offset=${offset}`);
    return answer.ok ? answer.body : null;
  }
}

/** The filter registry as JSON (served by the local server, written beside the deployed page). */
export async function loadCatalog() {
  const answer = await json("filters.json");
  if (!answer.ok) throw new Error(`filters.json: ${answer.status}`);
  return answer.body;
}

/** What a Thumbor URL path says, from the server's /params/ (null and the error otherwise). */
export async function readParams(urlPath) {
  const answer = await json(`/params${urlPath}`);
  return answer.ok ? { params: answer.body } : { error: answer.body };
}
