// Results as a person reads them: text, JSON as a collapsible tree, images and audio from
// base64, other blobs as downloads of inert type, and resource links that read the resource
// when clicked.
import { el } from "./form.js";

export function jsonTree(value, key) {
  const named = key !== undefined ? el("span", { className: "key", textContent: `${key}: ` }) : null;
  if (value === null || typeof value !== "object") {
    return el("div", { className: "leaf" }, named, JSON.stringify(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const open = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const node = el("details", { open: entries.length <= 20 }, el("summary", {}, named, open));
  for (const [k, v] of entries) node.append(jsonTree(v, k));
  return node;
}

export function tree(value) {
  return el("div", { className: "tree" }, jsonTree(value));
}

function looksJson(mime, text) {
  if (mime && mime.includes("json")) return true;
  return /^\s*[[{]/.test(text);
}

function textBlock(text, mime) {
  if (looksJson(mime, text)) {
    try { return tree(JSON.parse(text)); } catch { /* plain text after all */ }
  }
  return el("pre", { textContent: text });
}

// One content block (tools/call, prompts/get) or resource contents (resources/read).
export function block(item, onLink) {
  switch (item.type) {
    case "text": return textBlock(item.text, null);
    case "image": return el("img", { className: "content", src: `data:${item.mimeType};base64,${item.data}`, alt: "image result" });
    case "audio": return el("audio", { controls: true, src: `data:${item.mimeType};base64,${item.data}` });
    case "resource_link": {
      const link = el("button", { className: "item resource-link", type: "button", textContent: `${item.name || item.uri} (${item.uri})` });
      link.onclick = () => onLink(item.uri);
      return el("div", {}, "link: ", link);
    }
    case "resource": return el("div", {}, el("div", { className: "desc", textContent: `embedded ${item.resource.uri}` }), contents(item.resource, onLink));
    default: return tree(item);
  }
}

export function contents(c, onLink) {
  if (c.text !== undefined) return textBlock(c.text, c.mimeType);
  if (c.blob !== undefined) {
    const src = `data:${c.mimeType || "application/octet-stream"};base64,${c.blob}`;
    // an <img> or <audio> runs nothing, whatever the data (an SVG's scripts included)
    if ((c.mimeType || "").startsWith("image/")) return el("img", { className: "content", src });
    if ((c.mimeType || "").startsWith("audio/")) return el("audio", { controls: true, src });
    return blobDownload(c);
  }
  return tree(c);
}

// Extensions a browser, or the desktop, opens as data rather than as a page or a program.
const INERT = new Set(["txt", "bin", "dat", "csv", "tsv", "json", "jsonl", "md", "log", "zip", "gz", "tgz", "tar",
  "bz2", "xz", "zst", "7z", "png", "jpg", "jpeg", "gif", "webp", "bmp", "mp3", "wav", "ogg", "flac", "m4a",
  "mp4", "webm", "parquet", "sqlite", "db", "wasm"]);
const TEXTUAL = /^text\/|[/+](xml|json|javascript|ecmascript|x-javascript)$/;

// A server's blob, whatever type it claims, is offered as a download of inert type (text/plain
// or application/octet-stream) under a name of inert extension: a blob "text/html" saved as
// page.html would run its scripts when opened. A textual blob is also shown, as text.
function blobDownload(c) {
  const type = (c.mimeType || "").split(";")[0].trim().toLowerCase();
  const asText = TEXTUAL.test(type);
  const href = asText ? `data:text/plain;charset=utf-8;base64,${c.blob}` : `data:application/octet-stream;base64,${c.blob}`;
  const name = safeName(c.uri, asText);
  const link = el("a", { className: "download", href, download: name, textContent: `download ${name}` });
  const told = el("span", { className: "hint", textContent: ` (${type || "no type given"}, saved as ${asText ? "text" : "bytes"})` });
  if (!asText) return el("div", {}, link, told);
  let shown;
  try {
    shown = el("pre", { textContent: new TextDecoder().decode(Uint8Array.from(atob(c.blob), (ch) => ch.charCodeAt(0))) });
  } catch {
    shown = el("p", { className: "error", textContent: "the blob is not valid base64" });
  }
  return el("div", {}, shown, link, told);
}

function safeName(uri, asText) {
  const last = String(uri || "").split(/[?#]/)[0].split("/").pop() || "";
  const name = last.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[.]+/, "").slice(0, 100) || "blob";
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  return INERT.has(extension) ? name : `${name}.${asText ? "txt" : "bin"}`;
}

// A tool's result in tabs: its content blocks (what a model reads), its structuredContent as a
// tree, and the raw JSON. Shown under the tool's view, if it has one: the content is most often
// the structured result again as text, and both at once pushed the view off the screen.
export function toolResult(result, onLink) {
  const box = el("div", { className: "result tool-result" + (result.isError ? " is-error" : "") });
  if (result.isError) box.append(el("strong", { textContent: "The tool reported an error" }));
  const panes = [["content", "Content", () => (result.content || []).map((item) => block(item, onLink))]];
  if (result.structuredContent !== undefined) panes.push(["structured", "Structured", () => [tree(result.structuredContent)]]);
  panes.push(["raw", "Raw", () => [el("pre", { className: "raw", textContent: JSON.stringify(result, null, 2) })]]);
  const bar = el("div", { className: "result-tabs", role: "tablist", ariaLabel: "The result as" });
  const shown = el("div", { className: "result-pane", role: "tabpanel" });
  const choose = (name) => {
    for (const button of bar.children) {
      const on = button.dataset.pane === name;
      button.classList.toggle("active", on);
      button.setAttribute("aria-selected", String(on));
    }
    const [, , make] = panes.find(([pane]) => pane === name);
    shown.replaceChildren(...make());
    shown.dataset.pane = name;
  };
  for (const [name, label] of panes) {
    bar.append(el("button", { type: "button", role: "tab", textContent: label, onclick: () => choose(name) }));
    bar.lastChild.dataset.pane = name;
  }
  box.append(bar, shown);
  choose("content");
  return box;
}

// Why a connect failed (the backend's describe_failure): what happened, then the user's own
// frames and the exception, then everything as it came, folded.
export function failureView(target, failure) {
  const nodes = [el("div", { className: "error-title" }, el("strong", { textContent: "Could not connect" }),
    el("code", { textContent: target || "" }))];
  nodes.push(el("p", { className: "error-summary", textContent: failure.summary }));
  if (failure.userFrames) {
    nodes.push(el("pre", { className: "user-frames", textContent: failure.userFrames }));
    if (failure.otherFrames) {
      nodes.push(el("p", { className: "hint", textContent: `Your code's frames only: ${failure.otherFrames} frame(s) of mcpkit, Python and installed packages are left out (the whole error is below).` }));
    }
  }
  if (failure.text.includes("\n")) {
    nodes.push(el("details", { className: "full-error" }, el("summary", { textContent: "The whole error" }),
      el("pre", { textContent: failure.text })));
  }
  return nodes;
}
