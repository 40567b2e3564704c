// Forms generated from a JSON Schema (tool inputs, elicitation requests): one field per
// property, defaults filled, required marked, and validation before anything is sent. A form's
// read() is async: patterns are checked off the page's thread (patterns.js).
import { checkPattern, warm } from "./patterns.js";

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// Optional[X] arrives as anyOf [X, null]: use X.
function unwrap(schema) {
  const branches = schema.anyOf || schema.oneOf;
  if (branches && !schema.enum && !branches.every((b) => "const" in b)) {
    const real = branches.filter((b) => b.type !== "null");
    if (real.length === 1) {
      // the property's own title and description first, then its type's
      return { ...real[0], title: schema.title ?? real[0].title, description: schema.description ?? real[0].description,
        typeName: real[0].typeName, default: schema.default ?? real[0].default };
    }
  }
  return schema;
}

function choices(schema) {
  if (schema.enum) return schema.enum.map((v, i) => [v, (schema.enumNames || [])[i] ?? String(v)]);
  const branches = schema.oneOf || schema.anyOf;
  if (branches && branches.length && branches.every((b) => "const" in b)) {
    return branches.map((b) => [b.const, b.title ?? String(b.const)]);
  }
  return null;
}

// A field for `schema`; returns {node, read} where read() resolves to [value, errors] and
// `undefined` for an empty optional field.
// What a field's label says: its name (or title) and its type (a class's name if it has one).
function heading(schema, name, required) {
  const type = schema.typeName || (Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null").join(" | ") : schema.type);
  return el("span", { className: "field-label" },
    el("span", { className: "name" + (required ? " required" : ""), textContent: schema.title || name }),
    type ? el("span", { className: "type", textContent: type }) : null);
}

const help = (schema) => schema.description ? el("span", { className: "help", textContent: schema.description }) : null;

export function field(schema, name, required, path) {
  schema = unwrap(schema || {});
  const label = heading(schema, name, required);
  const error = el("span", { className: "error" });
  const note = el("span", { className: "note" });  // what was not checked here, and why
  const wrap = (control, read) => {
    const node = el("label", { className: "field" }, label, el("span", { className: "field-body" }, control, help(schema), error, note));
    node.dataset.path = path;
    // a problem named at the last check goes once the field is edited
    control.addEventListener("input", () => { error.textContent = ""; note.textContent = ""; control.classList.remove("invalid"); });
    return { node, read: async () => {
      const [v, errs, unchecked] = await read();
      error.textContent = errs[0] ? errs[0].message : "";
      note.textContent = unchecked || "";
      control.classList?.toggle("invalid", errs.length > 0 && errs[0].path === path);
      return [v, errs];
    } };
  };
  const fail = (message) => [[{ path, message }]];
  const opts = choices(schema);
  if (opts) {
    const select = el("select", { name: path });
    if (!required) select.append(el("option", { value: "", textContent: "—" }));
    opts.forEach(([v, title], i) => select.append(el("option", { value: String(i), textContent: title, selected: v === schema.default })));
    return wrap(select, () => select.value === "" ? [undefined, required ? fail("choose one")[0] : []] : [opts[Number(select.value)][0], []]);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "boolean") {
    const box = el("input", { type: "checkbox", name: path, checked: schema.default === true });
    return wrap(box, () => [box.checked, []]);
  }
  if (type === "number" || type === "integer") return numberField(schema, type, required, path, wrap, fail);
  if (type === "string") return stringField(schema, required, path, wrap, fail);
  if (type === "array") return arrayField(schema, name, required, path);
  if (type === "object" || schema.properties) return objectField(schema, name, required, path);
  const area = el("textarea", { name: path, rows: 2, placeholder: "JSON", value: schema.default !== undefined ? JSON.stringify(schema.default) : "" });
  return wrap(area, () => {
    if (!area.value.trim()) return [undefined, required ? fail("required")[0] : []];
    try { return [JSON.parse(area.value), []]; } catch { return [undefined, fail("not valid JSON")[0]]; }
  });
}

function numberField(schema, type, required, path, wrap, fail) {
  const input = el("input", { type: "number", name: path, step: type === "integer" ? "1" : "any" });
  if (schema.default !== undefined) input.value = String(schema.default);
  return wrap(input, () => {
    const text = input.value.trim();
    if (!text) return [undefined, required ? fail(input.validity.badInput ? "not a number" : "required")[0] : []];
    const n = Number(text);
    if (Number.isNaN(n)) return [undefined, fail("not a number")[0]];
    if (type === "integer" && !Number.isInteger(n)) return [n, fail("must be a whole number")[0]];
    if (schema.minimum !== undefined && n < schema.minimum) return [n, fail(`must be at least ${schema.minimum}`)[0]];
    if (schema.maximum !== undefined && n > schema.maximum) return [n, fail(`must be at most ${schema.maximum}`)[0]];
    if (schema.exclusiveMinimum !== undefined && n <= schema.exclusiveMinimum) return [n, fail(`must be above ${schema.exclusiveMinimum}`)[0]];
    if (schema.exclusiveMaximum !== undefined && n >= schema.exclusiveMaximum) return [n, fail(`must be below ${schema.exclusiveMaximum}`)[0]];
    return [n, []];
  });
}

function stringField(schema, required, path, wrap, fail) {
  const long = (schema.maxLength ?? 0) > 200 || schema.format === "textarea";
  const input = el(long ? "textarea" : "input", { name: path });
  if (!long) input.type = { email: "email", uri: "url", date: "date" }[schema.format] || "text";
  if (schema.default !== undefined) input.value = String(schema.default);
  const pattern = typeof schema.pattern === "string" ? schema.pattern : null;
  if (pattern !== null) warm();
  return wrap(input, async () => {
    const v = input.value;
    if (!v) return [undefined, required ? fail("required")[0] : []];
    if (schema.minLength !== undefined && v.length < schema.minLength) return [v, fail(`at least ${schema.minLength} characters`)[0]];
    if (schema.maxLength !== undefined && v.length > schema.maxLength) return [v, fail(`at most ${schema.maxLength} characters`)[0]];
    if (pattern === null) return [v, []];
    const answer = await checkPattern(pattern, v);
    if (answer.unchecked) return [v, [], answer.unchecked];
    return answer.matched ? [v, []] : [v, fail(`must match ${pattern}`)[0]];
  });
}

function arrayField(schema, name, required, path) {
  const box = el("fieldset", { className: "group" }, el("legend", {}, heading({ ...schema, typeName: schema.typeName || `${schema.items?.typeName || schema.items?.type || "any"}[]` }, name, required)), help(schema));
  box.dataset.path = path;
  const error = el("span", { className: "error" });
  const rows = el("div");
  const items = [];
  const add = (value) => {
    const item = field({ ...(schema.items || {}), default: value ?? (schema.items || {}).default }, `${name}[${items.length}]`, true, `${path}[${items.length}]`);
    const remove = el("button", { type: "button", className: "ghost small", textContent: "Remove" });
    const row = el("div", { className: "array-row" }, item.node, remove);
    const entry = { item, row };
    remove.onclick = () => { items.splice(items.indexOf(entry), 1); row.remove(); };
    items.push(entry);
    rows.append(row);
  };
  (Array.isArray(schema.default) ? schema.default : []).forEach(add);
  box.append(rows, el("button", { type: "button", className: "add ghost small", textContent: "+ Add item", onclick: () => add() }), error);
  return {
    node: box,
    read: async () => {
      const values = [];
      const errors = [];
      for (const { item } of items) { const [v, errs] = await item.read(); values.push(v); errors.push(...errs); }
      let own = "";
      if (schema.minItems !== undefined && values.length < schema.minItems) own = `add at least ${schema.minItems} item(s)`;
      if (schema.maxItems !== undefined && values.length > schema.maxItems) own = `at most ${schema.maxItems} item(s)`;
      error.textContent = own;
      if (own) errors.push({ path, message: own });
      if (!values.length && !required && !own) return [undefined, errors];
      return [values, errors];
    },
  };
}

function objectField(schema, name, required, path) {
  // A group is named by its property; a title there is its class's (schemas arrive with
  // definitions written in place), shown as the type.
  const legend = { ...schema, title: undefined, typeName: schema.typeName || schema.title };
  const box = el("fieldset", { className: "group" }, name ? el("legend", {}, heading(legend, name, required)) : null, help(schema));
  const form = objectFields(schema, path);
  box.append(form.node);
  return { node: box, read: form.read };
}

// Local references ("#/$defs/Name") replaced by what they name; a recursive type stops
// after a few levels (its deeper values are typed as JSON).
function inline(schema, root, depth = 0) {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, root, depth));
  if (!schema || typeof schema !== "object") return schema;
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
    if (depth > 6) return {};
    const target = schema.$ref.slice(2).split("/").reduce((node, key) => node?.[key], root) || {};
    // A definition's title is its class's name: the type, not what this property is for,
    // which the property's own title and description say.
    const { title, ...body } = target;
    const { $ref, ...rest } = schema;
    return inline({ ...body, typeName: title, ...rest }, root, depth + 1);
  }
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key !== "$defs" && key !== "definitions") out[key] = inline(value, root, depth);
  }
  return out;
}

// The fields of an object schema (a tool's whole input is one).
export function objectFields(schema, path = "") {
  if (!path) schema = inline(schema, schema);
  const node = el("div");
  const need = new Set(schema.required || []);
  const fields = Object.entries(schema.properties || {}).map(([key, sub]) => {
    const f = field(sub, key, need.has(key), path ? `${path}.${key}` : key);
    node.append(f.node);
    return [key, f];
  });
  return {
    node,
    read: async () => {
      const value = {};
      const errors = [];
      for (const [key, f] of fields) {
        const [v, errs] = await f.read();
        if (v !== undefined) value[key] = v;
        errors.push(...errs);
      }
      return [value, errors];
    },
  };
}

export { el };
