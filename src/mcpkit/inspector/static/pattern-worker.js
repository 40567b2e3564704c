// Tests a value against a schema's pattern for patterns.js, off the page's thread: a server's
// pattern can backtrack for minutes (^(a+)+$ on "aaaa…!"), and only a worker can be stopped.
self.onmessage = (event) => {
  const { id, pattern, value } = event.data;
  let answer;
  try {
    answer = { id, matched: new RegExp(pattern, "u").test(value) };
  } catch (err) {
    answer = { id, unchecked: `the pattern is not one this browser reads (${err.message})` };
  }
  self.postMessage(answer);
};
self.postMessage({ ready: true });
