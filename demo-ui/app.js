// The demo page's logic: a Thumbor path from the form, then the image at that path (same origin).
"use strict";

function buildPath(options) {
  var parts = ["unsafe"];
  if (options.fitIn) { parts.push("fit-in"); }
  var width = Math.max(0, parseInt(options.width, 10) || 0);
  var height = Math.max(0, parseInt(options.height, 10) || 0);
  if (width || height) { parts.push(width + "x" + height); }
  if (options.smart) { parts.push("smart"); }
  var filters = (options.filters || "").trim().replace(/^filters:/, "");
  if (filters) { parts.push("filters:" + filters); }
  var key = (options.key || "").trim().replace(/^\/+/, "");
  parts.push(key.split("/").map(encodeURIComponent).join("/"));
  return "/" + parts.join("/");
}

if (typeof document !== "undefined") {
  var form = document.getElementById("form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var path = buildPath({
      key: document.getElementById("key").value,
      width: document.getElementById("width").value,
      height: document.getElementById("height").value,
      fitIn: document.getElementById("fitIn").checked,
      smart: document.getElementById("smart").checked,
      filters: document.getElementById("filters").value,
    });
    document.getElementById("url").textContent = location.origin + path;
    var status = document.getElementById("status");
    status.textContent = "Loading…";
    status.className = "";
    fetch(path).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          throw new Error(response.status + " " + text);
        });
      }
      return response.blob().then(function (blob) {
        document.getElementById("result").src = URL.createObjectURL(blob);
        status.textContent = response.status + " " + blob.type + ", " + blob.size + " bytes";
      });
    }).catch(function (error) {
      status.textContent = error.message;
      status.className = "error";
    });
  });
}

if (typeof module !== "undefined") { module.exports = { buildPath: buildPath }; }
