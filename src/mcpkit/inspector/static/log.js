// The two feeds beside the panels: every JSON-RPC message (who sent it, when since the connect,
// what it answers and how long that took) and every notification.
import { el } from "./form.js";
import { tree } from "./render.js";

const $ = (id) => document.getElementById(id);
const asked = new Map();

export function seconds(ms) {
  return `+${(ms / 1000).toFixed(3)} s`;
}

function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

// Empty both feeds: a new connection starts its own log, its times counted from zero.
export function clearFeeds() {
  asked.clear();
  $("log").replaceChildren();
  $("notifications").replaceChildren();
  $("message-count").textContent = "0";
  $("notification-count").textContent = "0";
}

function expandable(row, body, text) {
  row.onclick = (event) => {
    if (event.target.closest(".tree")) return;  // folding the tree must not close it
    const open = row.querySelector(":scope > .body");
    if (open) open.remove();
    else row.append(el("div", { className: "body" }, body !== undefined ? tree(body) : el("pre", { textContent: text })));
  };
}

// Add `row` to a feed, which keeps showing its newest line if it showed it (the person may be
// reading an older one). Only the feed scrolls: a message must never move the page (and the
// tool's view with it) under the person's eyes.
function follow(feed, row) {
  const atEnd = feed.scrollHeight - feed.scrollTop - feed.clientHeight < 8;
  feed.append(row);
  if (atEnd) feed.scrollTop = feed.scrollHeight;
}

export function logged(event) {
  const body = event.body || {};
  const kind = body.method ? (body.id !== undefined ? "request" : "notification") : (body.error ? "error" : "response");
  const origin = event.direction === "sent" ? "client" : "server";
  let name = body.method || kind;
  let timing = "";
  if (body.method && body.id !== undefined) asked.set(`${origin}:${body.id}`, { at: event.at, method: body.method });
  if (!body.method && body.id !== undefined) {
    // a response answers the request of that id that the other side sent
    const key = `${origin === "client" ? "server" : "client"}:${body.id}`;
    const request = asked.get(key);
    asked.delete(key);
    if (request) { name = `${kind} to ${request.method}`; timing = ` · ${(event.at - request.at).toFixed(1)} ms`; }
  }
  const row = el("li", { className: `message ${event.direction} kind-${kind}`, title: "Click for the whole message" },
    el("span", { className: "time", textContent: seconds(event.at) }),
    el("span", { className: `origin ${origin}`, textContent: origin }),
    el("span", { className: "method", textContent: name }),
    body.id !== undefined ? el("span", { className: "id", textContent: `#${body.id}` }) : null,
    el("span", { className: "meta", textContent: `${size(event.size)}${timing}` }));
  expandable(row, event.body, event.text);
  follow($("log"), row);
  $("message-count").textContent = String($("log").childElementCount);
}

export function notified(event) {
  const params = event.params ?? {};
  const line = params.data !== undefined && params.level ? `${params.level}: ${typeof params.data === "string" ? params.data : JSON.stringify(params.data)}` : "";
  const row = el("li", { className: "notification" },
    el("span", { className: "time", textContent: seconds(event.at) }),
    el("span", { className: "method", textContent: event.method }),
    line ? el("span", { className: "meta", textContent: line }) : null);
  expandable(row, params);
  follow($("notifications"), row);
  $("notification-count").textContent = String($("notifications").childElementCount);
}
