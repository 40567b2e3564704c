// The four tools of the one-CPU benchmark (bench/one_cpu.py) on the TypeScript SDK, v1 and v2:
// the same tools as mix_tools.py (read its docstring for where they come from). Each answer
// carries the object as JSON text and as structuredContent, as the Python SDKs answer a dict.
//
//   registerMix(server, z, schema)   // schema: v1 takes a raw shape (s) => s, v2 z.object

const FETCH_WAIT_MS = 2;

const fibonacci = (n) => (n <= 1 ? n : fibonacci(n - 1) + fibonacci(n - 2));

function transform(value) {
  if (Array.isArray(value)) return value.map(transform);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, transform(v)]));
  }
  return typeof value === "string" ? value.toUpperCase() : value;
}

const answer = (value) => ({
  content: [{ type: "text", text: JSON.stringify(value) }],
  structuredContent: value,
});
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerMix(server, z, schema) {
  server.registerTool(
    "calculate_fibonacci",
    {
      description: "The n-th Fibonacci number, computed recursively (0 <= n <= 40).",
      inputSchema: schema({ n: z.number().int().min(0).max(40) }),
    },
    async ({ n }) => answer({ input: n, result: fibonacci(n) }),
  );
  server.registerTool(
    "fetch_external_data",
    {
      description: "Fetch a document from an endpoint (simulated: a short wait).",
      inputSchema: schema({ endpoint: z.string() }),
    },
    async ({ endpoint }) => {
      await wait(FETCH_WAIT_MS);
      return answer({ url: endpoint, status_code: 200, body: { ok: true } });
    },
  );
  server.registerTool(
    "process_json_data",
    {
      description: "Upper-case every string of a JSON object.",
      inputSchema: schema({ data: z.record(z.string(), z.any()) }),
    },
    async ({ data }) => answer({ original_keys: Object.keys(data), transformed_data: transform(data) }),
  );
  server.registerTool(
    "simulate_database_query",
    {
      description: "Run a query (simulated: a wait of delay_ms, 0 to 5,000).",
      inputSchema: schema({ query: z.string(), delay_ms: z.number().int().min(0).max(5000).default(0) }),
    },
    async ({ query, delay_ms }) => {
      await wait(delay_ms);
      return answer({ query, delay_ms, rows: 1 });
    },
  );
}
