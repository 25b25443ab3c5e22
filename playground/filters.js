// The filter list: filters added from the registry's catalog (filters.json), each with fields
// typed from its declared parameters, checked as they are typed against the patterns and
// ranges the registry declares, reordered by dragging or by buttons, removed.

import { splitFilters, GrammarError } from "./grammar.js";

let uid = 0;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

function unquoted(text) {
  return text.length >= 2 && text[0] === "'" && text[text.length - 1] === "'" ? text.slice(1, -1) : text;
}

/** What is wrong with `text` as the argument `param` (a catalog entry), or "" if nothing.
 * The same checks as the registry's parse where it declares them; the rest is the server's. */
export function checkArgument(param, rawText) {
  const text = rawText.trim();
  if (text === "") return param.required ? "required" : "";
  if (param.choices) {
    const lower = unquoted(text).toLowerCase();
    return param.choices.some((c) => c.toLowerCase() === lower) ? "" : `one of ${param.choices.join(", ")}`;
  }
  const value = param.kind === "String" || param.kind === "image" ? unquoted(text) : text;
  if (param.pattern && !new RegExp(`^(?:${param.pattern})$`).test(value)) {
    return `does not match ${param.pattern}`;
  }
  if (param.min !== null && param.min !== undefined && Number(value) < param.min) return `at least ${param.min}`;
  if (param.max !== null && param.max !== undefined && Number(value) > param.max) return `at most ${param.max}`;
  return "";
}

/** The arguments as the URL writes them: trailing empty optional ones left out. */
export function argumentsOf(values) {
  const args = values.map((v) => v.trim());
  while (args.length && args[args.length - 1] === "") args.pop();
  return args;
}

export class FilterEditor {
  /** `list`: the <ol>; `picker` and `addButton`: the filter <select> and its Add button;
   * `announce(text)`: says what changed to screen readers; `onChange()`: after every edit. */
  constructor({ list, picker, addButton, announce, onChange }) {
    this.list = list;
    this.picker = picker;
    this.announce = announce;
    this.onChange = onChange;
    this.catalog = new Map();
    this.rows = [];
    this.imageList = "";
    addButton.addEventListener("click", () => {
      const spec = this.catalog.get(picker.value);
      if (!spec) return;
      const row = this.add(spec.name, []);
      row.focusFirst();
      this.announce(`${spec.name} added, filter ${this.rows.length} of ${this.rows.length}`);
      this.onChange();
    });
  }

  setCatalog(catalog) {
    this.catalog = new Map(catalog.filters.map((spec) => [spec.name, spec]));
    this.picker.replaceChildren(
      ...catalog.filters.map((spec) => element("option", { value: spec.name, text: spec.signature })),
    );
  }

  /** The id of a <datalist> of image keys, offered in image parameters. */
  setImageList(id) {
    this.imageList = id;
  }

  /** [{name, args}] in URL order. */
  get filters() {
    return this.rows.map((row) => ({ name: row.name, args: row.args() }));
  }

  /** Every problem found, as "name(): param: message". */
  get problems() {
    return this.rows.flatMap((row) => row.problems());
  }

  /** Replace the list with `filters` ([{name, args}], as /params/ answers them). */
  load(filters) {
    for (const row of this.rows) row.node.remove();
    this.rows = [];
    for (const filter of filters) this.add(filter.name, filter.args);
  }

  add(name, args) {
    const row = new FilterRow(this, name, this.catalog.get(name), args);
    this.rows.push(row);
    this.list.append(row.node);
    this.renumber();
    return row;
  }

  remove(row) {
    const index = this.rows.indexOf(row);
    this.rows.splice(index, 1);
    row.node.remove();
    this.renumber();
    // Focus goes where the removed filter was, or back to the picker.
    const next = this.rows[Math.min(index, this.rows.length - 1)];
    (next ? next.removeButton : this.picker).focus();
    this.announce(`${row.name} removed`);
    this.onChange();
  }

  move(row, to) {
    const from = this.rows.indexOf(row);
    if (to < 0 || to >= this.rows.length || to === from) return;
    this.rows.splice(from, 1);
    this.rows.splice(to, 0, row);
    this.list.replaceChildren(...this.rows.map((r) => r.node));
    this.renumber();
    this.announce(`${row.name} moved to position ${to + 1} of ${this.rows.length}`);
    this.onChange();
  }

  renumber() {
    this.rows.forEach((row, index) => row.setPosition(index, this.rows.length));
  }
}

class FilterRow {
  constructor(editor, name, spec, args) {
    this.editor = editor;
    this.name = name;
    this.spec = spec;
    this.id = `filter-${++uid}`;
    this.fields = [];
    const heading = element("span", { class: "filter-name", id: `${this.id}-name`, text: spec ? spec.signature : `${name}(…)` });
    this.handle = element("span", { class: "drag-handle", title: "Drag to reorder", "aria-hidden": "true", text: "⠿" });
    this.upButton = element("button", { type: "button", class: "move-up" }, "↑");
    this.downButton = element("button", { type: "button", class: "move-down" }, "↓");
    this.removeButton = element("button", { type: "button", class: "remove" }, "Remove");
    const tools = element("span", { class: "filter-tools" }, this.upButton, this.downButton, this.removeButton);
    const body = element("div", { class: "filter-fields" });
    if (spec) {
      if (spec.doc) body.append(element("p", { class: "filter-doc", text: spec.doc }));
      spec.params.forEach((param, index) => body.append(this.field(param, args[index] ?? "")));
    } else {
      body.append(element("p", { class: "filter-doc", text: "Not a filter of this server: kept as written, and ignored by the server (or refused under STRICT_FILTERS)." }));
      body.append(this.rawField(args));
    }
    this.node = element("li", { class: "filter", "data-filter": name, "aria-labelledby": `${this.id}-name` },
      element("div", { class: "filter-head" }, this.handle, heading, tools), body);
    this.upButton.addEventListener("click", () => { this.editor.move(this, this.position - 1); this.upButton.focus(); });
    this.downButton.addEventListener("click", () => { this.editor.move(this, this.position + 1); this.downButton.focus(); });
    this.removeButton.addEventListener("click", () => this.editor.remove(this));
    this.handle.addEventListener("pointerdown", (event) => this.drag(event));
  }

  setPosition(index, count) {
    this.position = index;
    const label = `${this.name}, filter ${index + 1} of ${count}`;
    this.upButton.setAttribute("aria-label", `Move ${label} up`);
    this.downButton.setAttribute("aria-label", `Move ${label} down`);
    this.removeButton.setAttribute("aria-label", `Remove ${label}`);
    this.upButton.disabled = index === 0;
    this.downButton.disabled = index === count - 1;
  }

  field(param, value) {
    const id = `${this.id}-${param.name}`;
    const hint = param.required ? param.kind : `${param.kind}, optional${param.default !== null ? `, default ${param.default}` : ""}`;
    const label = element("label", { for: id }, `${param.name} `, element("small", { text: `(${hint})` }));
    let input;
    if (param.choices || param.kind === "Boolean") {
      const choices = param.choices || ["true", "false"];
      input = element("select", { id });
      if (!param.required || !value) input.append(element("option", { value: "", text: param.required ? "choose…" : "(default)" }));
      for (const choice of choices) input.append(element("option", { value: choice, text: choice }));
      input.value = choices.find((c) => c.toLowerCase() === String(value).toLowerCase()) ?? value;
    } else {
      const numeric = /Number$/.test(param.kind);
      input = element("input", {
        id, type: "text", value: String(value), autocomplete: "off", spellcheck: "false",
        inputmode: numeric ? (param.kind === "DecimalNumber" ? "decimal" : "numeric") : null,
        list: param.kind === "image" && this.editor.imageList ? this.editor.imageList : null,
        placeholder: param.required ? null : "default",
      });
    }
    const error = element("span", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
    input.setAttribute("aria-describedby", `${id}-error`);
    input.addEventListener("input", () => { this.check(); this.editor.onChange(); });
    this.fields.push({ param, input, error });
    return element("div", { class: "field" }, label, input, error);
  }

  rawField(args) {
    const id = `${this.id}-raw`;
    const input = element("input", { id, type: "text", value: args.join(","), autocomplete: "off", spellcheck: "false" });
    const error = element("span", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
    input.setAttribute("aria-describedby", `${id}-error`);
    input.addEventListener("input", () => { this.check(); this.editor.onChange(); });
    this.raw = { input, error };
    return element("div", { class: "field" }, element("label", { for: id, text: "arguments, as written" }), input, error);
  }

  focusFirst() {
    (this.fields[0]?.input || this.raw?.input || this.removeButton).focus();
  }

  args() {
    if (this.raw) {
      try {
        return splitFilters(`${this.name}(${this.raw.input.value})/`)[0][0].args;
      } catch (error) {
        if (error instanceof GrammarError) return [this.raw.input.value];
        throw error;
      }
    }
    return argumentsOf(this.fields.map((f) => f.input.value));
  }

  check() {
    const found = [];
    for (const { param, input, error } of this.fields) {
      const problem = checkArgument(param, input.value);
      error.textContent = problem;
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) found.push(`${this.name}(): ${param.name}: ${problem}`);
    }
    return found;
  }

  problems() {
    return this.check();
  }

  /** Reorder by dragging the handle: the row goes where the pointer is let go. */
  drag(event) {
    event.preventDefault();
    const node = this.node;
    node.classList.add("dragging");
    this.handle.setPointerCapture(event.pointerId);
    const targetIndex = (y) => {
      const others = this.editor.rows.filter((r) => r !== this);
      let index = 0;
      for (const other of others) {
        const box = other.node.getBoundingClientRect();
        if (y > box.top + box.height / 2) index++;
      }
      return index;
    };
    const move = (e) => { node.style.transform = `translateY(${e.clientY - event.clientY}px)`; };
    const up = (e) => {
      this.handle.removeEventListener("pointermove", move);
      this.handle.removeEventListener("pointerup", up);
      this.handle.removeEventListener("pointercancel", up);
      node.classList.remove("dragging");
      node.style.transform = "";
      this.editor.move(this, targetIndex(e.clientY));
    };
    this.handle.addEventListener("pointermove", move);
    this.handle.addEventListener("pointerup", up);
    this.handle.addEventListener("pointercancel", up);
  }
}
