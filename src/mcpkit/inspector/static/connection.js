// The connection panel: era, transport, timeout, a started server's environment variables or
// a URL's headers, a state key, and Ping. Everything but the variables' and headers' values
// and the state key is kept in the page's address (its fragment, which no request carries), so
// a reload or a bookmark keeps it; those are often secrets (Authorization, API keys, a key to
// someone's state): they stay in this tab's sessionStorage, never in the address, the history
// or a Referer (docs/inspector.md).
import { el } from "./form.js";

const $ = (id) => document.getElementById(id);
const VALUES = "mcpkit-inspector-values";
const DEFAULTS = { protocol: "auto", transport: "auto", timeout: "" };
const state = { env: [], headers: [] };  // [name, value] rows, in the order typed

const isUrl = (target) => /^\s*https?:\/\//i.test(target || "");

function storedValues() {
  try { return JSON.parse(sessionStorage.getItem(VALUES) || "{}"); } catch { return {}; }
}

function saveValues() {
  const values = {
    env: Object.fromEntries(state.env), headers: Object.fromEntries(state.headers),
    stateKey: $("conn-state-key").value,
  };
  try { sessionStorage.setItem(VALUES, JSON.stringify(values)); } catch { /* storage off: this page only */ }
}

// The address: `#target=...&protocol=...&transport=...&timeout=...&env=A,B&headers=X,Y`.
function readAddress() {
  const found = new URLSearchParams(location.hash.slice(1));
  return found.toString() ? found : null;
}

export function writeAddress() {
  const found = new URLSearchParams();
  const target = $("target").value.trim();
  if (target) found.set("target", target);
  for (const key of ["protocol", "transport", "timeout"]) {
    const value = $(`conn-${key}`).value;
    if (value !== DEFAULTS[key]) found.set(key, value);
  }
  for (const kind of ["env", "headers"]) {
    const names = state[kind].map(([name]) => name).filter(Boolean);
    if (names.length) found.set(kind, names.join(","));
  }
  history.replaceState(null, "", `${location.pathname}${found.toString() ? "#" + found : ""}`);
}

// What `connect` sends: the panel's settings, with the variables or headers the target takes.
export function currentSettings() {
  const url = isUrl($("target").value);
  const pairs = (kind) => Object.fromEntries(state[kind].filter(([name]) => name));
  const timeout = Number($("conn-timeout").value || 0);
  return {
    protocol: $("conn-protocol").value, transport: $("conn-transport").value, timeout,
    env: url ? {} : pairs("env"), headers: url ? pairs("headers") : {},
    stateKey: $("conn-state-key").value.trim() || null,
  };
}

// A new state key: 32 random bytes in base64url (43 characters), as secrets.token_urlsafe(32).
function newStateKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const text = btoa(String.fromCharCode(...bytes));
  $("conn-state-key").value = text.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  saveValues();
}

// Fill the panel: from the address if it holds settings (a reload), else from the inspector's
// command line (`--protocol`, `--timeout`, the names of its `--header`s). The target the
// address names, if any; the caller connects to it.
export function loadSettings(hub, commandLineHeaders) {
  const address = readAddress();
  const values = storedValues();
  const given = address ? Object.fromEntries(address) : {
    protocol: hub.protocol, transport: hub.transport, timeout: hub.timeout ? String(hub.timeout) : "",
  };
  for (const key of ["protocol", "transport", "timeout"]) {
    const box = $(`conn-${key}`);
    box.value = given[key] ?? DEFAULTS[key];
    if (box.value !== String(given[key] ?? DEFAULTS[key])) box.value = DEFAULTS[key];  // an edited address
  }
  for (const kind of ["env", "headers"]) {
    const names = given[kind] ? given[kind].split(",") : [];
    state[kind] = names.filter(Boolean).map((name) => [name, (values[kind] || {})[name] ?? ""]);
  }
  $("conn-state-key").value = values.stateKey || "";
  fromCommandLine = commandLineHeaders || [];
  return address ? address.get("target") : null;
}

let fromCommandLine = [];

// The rows of one kind (env or headers): name, value (a password field: it is often a
// secret), and a button that removes the row.
function rows(kind) {
  const list = el("div", { className: "pairs" });
  state[kind].forEach(([name, value], index) => {
    const nameBox = el("input", { className: "pair-name", value: name, placeholder: kind === "env" ? "NAME" : "Header-Name", spellcheck: false, ariaLabel: `${kind} name` });
    const valueBox = el("input", { className: "pair-value", type: "password", value, placeholder: "value", autocomplete: "off", ariaLabel: `${kind} value` });
    nameBox.oninput = () => { state[kind][index][0] = nameBox.value.trim(); saveValues(); writeAddress(); summarize(); };
    valueBox.oninput = () => { state[kind][index][1] = valueBox.value; saveValues(); };
    const remove = el("button", { type: "button", className: "small ghost", textContent: "Remove", onclick: () => {
      state[kind].splice(index, 1); saveValues(); writeAddress(); render();
    } });
    list.append(el("div", { className: "pair" }, nameBox, valueBox, remove));
  });
  return list;
}

// The editor for what the target takes: headers for a URL, environment variables otherwise.
export function render() {
  const kind = isUrl($("target").value) ? "headers" : "env";
  const add = el("button", { type: "button", className: "small", id: "conn-add", textContent: kind === "env" ? "Add variable" : "Add header", onclick: () => {
    state[kind].push(["", ""]); render();
    $("conn-pairs").querySelector(".pair:last-child .pair-name")?.focus();
  } });
  const note = kind === "headers" && fromCommandLine.length
    ? el("p", { className: "hint", textContent: `Also sent to the command line's target: ${fromCommandLine.join(", ")} (from --header; a name given here too is sent with this value).` })
    : null;
  const told = kind === "env" ? "Added to the environment of a server the inspector starts (a file, module or command)."
    : "Sent with every HTTP request to the URL.";
  $("conn-pairs").replaceChildren(el("p", { className: "hint", textContent: `${told} Values stay in this tab (sessionStorage), never in the address.` }),
    rows(kind), ...(note ? [note] : []), add);
  $("conn-extra-label").textContent = kind === "env" ? "Environment" : "Headers";
  summarize();
}

function summarize() {
  const kind = isUrl($("target").value) ? "headers" : "env";
  const count = state[kind].filter(([name]) => name).length;
  $("conn-extra-count").textContent = count ? String(count) : "";
}

// Ping: `ping` (or `server/discover` under 2026-07-28, which has no ping) and how long it took.
async function ping(api) {
  const told = $("conn-ping-result");
  told.className = "ping-result";
  told.textContent = "…";
  try {
    const { method, ms } = await api("ping");
    told.textContent = `answered ${method} in ${ms} ms`;
    told.classList.add("ok");
  } catch (err) {
    told.textContent = String(err.message || err);
    told.classList.add("failed");
  }
}

export function setConnected(connected) {
  $("conn-ping").disabled = !connected;
  if (!connected) $("conn-ping-result").textContent = "";
}

export function initPanel(api) {
  for (const key of ["protocol", "transport", "timeout"]) $(`conn-${key}`).addEventListener("change", writeAddress);
  $("target").addEventListener("input", render);
  $("conn-ping").onclick = () => ping(api);
  $("conn-state-key").addEventListener("input", saveValues);
  $("conn-state-new").onclick = newStateKey;
  render();
}
