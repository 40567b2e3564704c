// The command-line frame of the TypeScript peer clients: run `summarize(command)` within a
// time limit, print its JSON summary and exit 0, or report the failure and exit 1.

export async function runPeerClient(name, summarize, timeoutMs) {
  const argv = process.argv.slice(2);
  if (argv.length === 0) {
    console.error(`usage: node ${name} COMMAND [ARG...]`);
    process.exit(2);
  }
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no summary within ${timeoutMs} ms`)), timeoutMs);
  });
  let code = 0;
  try {
    const summary = await Promise.race([summarize(argv), deadline]);
    await new Promise((resolve) => process.stdout.write(`${JSON.stringify(summary)}\n`, resolve));
  } catch (error) {
    console.error(`${name}: ${error?.stack ?? error}`);
    code = 1;
  } finally {
    clearTimeout(timer);
  }
  // Exit explicitly: a server that ignores the closed pipe must not keep this process alive.
  process.exit(code);
}
