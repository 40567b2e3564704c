// `mcpkit dev` saw a file change: the banner says so, then how the restart went. A restart that
// failed is told alike in the banner, the Server panel and the terminal: fix it and save, the
// next save tries again (a Connect is not needed, though it works too).
const $ = (id) => document.getElementById(id);
export const TRIES_AGAIN = "fix it and save: the next save tries again";
let reload = null;

// Whether a restart is under way (its outcome not told yet).
export function reloading() {
  return reload !== null;
}

export function reloaded(event) {
  reload = `${event.files.join(", ")} changed at ${new Date().toLocaleTimeString()}`;
  $("banner").hidden = false;
  $("banner").className = "banner";
  $("banner").textContent = `${reload}: restarting the server…`;
}

// How the restart ended (nothing if none is under way).
export function reloadOutcome(started) {
  if (reload === null) return;
  $("banner").textContent = started ? `${reload}: the server restarted.`
    : `${reload}: the new code did not start (why is shown below); ${TRIES_AGAIN}.`;
  $("banner").classList.toggle("done", started);
  reload = null;
}
