// What a view may ask of the person (docs/inspector.md "Views"): a link to open, checked
// first (http or https, no user name or password before the host) and shown with its host
// in large type, in the page, where the view cannot draw; and how often a view may ask.
import { el } from "./form.js";

// Asks to open a link, per view and minute; more are refused (one waits at a time).
export const LINK_ASKS_PER_MINUTE = 3;
// Messages a view shows the person (ui/message, ui/update-model-context, its log), per view
// and minute; more are refused (requests) or dropped (notifications).
export const MESSAGES_PER_MINUTE = 60;

// A use counter of at most `limit` uses in any 60 s: take() says whether one more fits.
export function budget(limit) {
  const used = [];
  return {
    take() {
      const now = performance.now();
      while (used.length && now - used[0] >= 60_000) used.shift();
      if (used.length >= limit) return false;
      used.push(now);
      return true;
    },
  };
}

// The link a view asks to open, or why it is refused: in
// `https://accounts.example.com@evil.example/` the host is evil.example, and the part before
// `@` is there to make it look otherwise.
export function checkLink(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return { error: "Invalid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { error: `Invalid URL: ${url.protocol} links are not opened (http and https only)` };
  }
  if (url.username || url.password) {
    return { error: "Invalid URL: a link with a user name or password before its host (user@host) is not opened" };
  }
  return { url };
}

// Ask the person, above the view's frame, whether to open `url`: true once they press Open
// (a click of theirs; the link opens then), false on Cancel.
export function askToOpen(box, frame, url) {
  const open = el("button", { type: "button", className: "danger link-open", textContent: `Open ${url.host}` });
  const cancel = el("button", { type: "button", className: "link-cancel", textContent: "Cancel" });
  const ask = el("div", { className: "link-ask" },
    el("span", { textContent: "The view asks to open a link to" }),
    el("strong", { className: "link-host", textContent: url.host }),
    el("code", { className: "link-url", textContent: url.href }),
    el("div", { className: "actions" }, open, cancel));
  ask.setAttribute("role", "alertdialog");
  ask.setAttribute("aria-label", `The view asks to open a link to ${url.host}`);
  box.insertBefore(ask, frame);
  return new Promise((resolve) => {
    open.onclick = (event) => {
      if (!event.isTrusted) return;  // a click made by a script is not the person's
      ask.remove();
      window.open(url.href, "_blank", "noopener,noreferrer");
      resolve(true);
    };
    cancel.onclick = () => { ask.remove(); resolve(false); };
  });
}
