// Checks a value against a schema's `pattern` in a Web Worker (pattern-worker.js), one check at
// a time, each stopped after PATTERN_TIMEOUT_MS: a server chooses the pattern, and one that
// backtracks would otherwise freeze the page. A check that is stopped lets the value through;
// the server decides.
export const PATTERN_TIMEOUT_MS = 200;
// Starting a worker is not part of a check's time (a busy machine can take a while).
const START_TIMEOUT_MS = 10_000;
const SLOW = "pattern too slow to check here; the server will decide";

let worker = null;  // { thread, ready: Promise<boolean> }
let queue = Promise.resolve();
let ids = 0;

function started() {
  if (worker) return worker;
  const thread = new Worker("/pattern-worker.js");
  const ready = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
    thread.addEventListener("message", (event) => { if (event.data.ready) { clearTimeout(timer); resolve(true); } });
    thread.addEventListener("error", () => { clearTimeout(timer); resolve(false); });
  });
  worker = { thread, ready };
  return worker;
}

function stop(current) {
  current.thread.terminate();
  if (worker === current) worker = null;
}

// Start the worker before the first check needs it (a form with a pattern was shown).
export function warm() { started(); }

async function once(pattern, value) {
  const current = started();
  if (!(await current.ready)) { stop(current); return { unchecked: "patterns cannot be checked in this page; the server will decide" }; }
  return new Promise((resolve) => {
    const id = ++ids;
    const finish = (answer) => {
      clearTimeout(timer);
      current.thread.removeEventListener("message", heard);
      resolve(answer);
    };
    const heard = (event) => { if (event.data.id === id) finish(event.data); };
    const timer = setTimeout(() => { stop(current); finish({ unchecked: SLOW }); }, PATTERN_TIMEOUT_MS);
    current.thread.addEventListener("message", heard);
    current.thread.postMessage({ id, pattern, value });
  });
}

// {matched: boolean} or {unchecked: why}.
export function checkPattern(pattern, value) {
  const answer = queue.then(() => once(pattern, value));
  queue = answer;
  return answer;
}
