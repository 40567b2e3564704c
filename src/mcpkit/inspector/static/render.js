// Results as a person reads them: text, JSON as a collapsible tree, images and audio from
// base64, and resource links that read the resource when clicked.
import { el } from "./form.js";

export function jsonTree(value, key) {
  const prefix = key !== undefined ? `${key}: ` : "";
  if (value === null || typeof value !== "object") {
    return el("div", { className: "leaf", textContent: prefix + JSON.stringify(value) });
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const open = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const node = el("details", { open: entries.length <= 20 }, el("summary", { textContent: prefix + open }));
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
    if ((c.mimeType || "").startsWith("image/")) return el("img", { className: "content", src });
    if ((c.mimeType || "").startsWith("audio/")) return el("audio", { controls: true, src });
    return el("a", { href: src, download: c.uri.split("/").pop() || "blob", textContent: `download ${c.uri}` });
  }
  return tree(c);
}

export function toolResult(result, onLink) {
  const box = el("div", { className: "result" + (result.isError ? " is-error" : "") });
  if (result.isError) box.append(el("strong", { textContent: "The tool reported an error" }));
  for (const item of result.content || []) box.append(block(item, onLink));
  if (result.structuredContent !== undefined) {
    box.append(el("div", { className: "desc", textContent: "structuredContent" }), tree(result.structuredContent));
  }
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
