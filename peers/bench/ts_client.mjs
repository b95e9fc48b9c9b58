// The TypeScript SDK client for mcptool's side-by-side benchmark (crates/mcptool-bench).
//
// Runs the benchmark's three phases against --url and prints {"runs": [<figures>, ...]} on
// stdout: sequential tools/call calls/s with p50/p99 latency, calls/s with --concurrency callers
// sharing one client, and the median connect + initialize + close time. Every loop stops at its
// count or at --time-limit seconds. The SDK comes from the folder named by MCPTOOL_PEERS_NODE
// (.peers/node, installed by scripts/install-peers.sh).
//
// --protocol 2026-07-28 measures the 2.x client (@modelcontextprotocol/client) in the stateless
// era instead: `versionNegotiation: { mode: { pin: "2026-07-28" } }`, so connect() is one
// server/discover (no initialize, no session) and close() sends no DELETE.
import path from "node:path";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// The SDK adds an abort listener per request to one signal and node warns about it on every
// call past 1500; say it once rather than flood stderr.
let warned = false;
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (!warned) console.error(`ts_client: node warned (shown once): ${warning.message}`);
  warned = true;
});

const peers = process.env.MCPTOOL_PEERS_NODE;
if (!peers) {
  console.error("ts_client: MCPTOOL_PEERS_NODE is not set");
  process.exit(2);
}
const MODERN = "2026-07-28";

/** The session-era SDK 1.x: Client and transport from their own modules. */
async function loadSessionSdk() {
  const sdk = path.join(peers, "node_modules/@modelcontextprotocol/sdk/dist/esm");
  const { Client } = await import(pathToFileURL(path.join(sdk, "client/index.js")).href);
  const { StreamableHTTPClientTransport } = await import(
    pathToFileURL(path.join(sdk, "client/streamableHttp.js")).href
  );
  return { Client, StreamableHTTPClientTransport };
}

/** The 2.x client package, through its own export map. */
async function loadModernClient() {
  const pkgDir = path.join(peers, "node_modules/@modelcontextprotocol/client");
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  return import(pathToFileURL(path.join(pkgDir, manifest.exports["."].import.default)).href);
}

function parseArgs(argv) {
  const args = {
    calls: 2000,
    concurrency: 64,
    concurrentCalls: 20000,
    lifecycles: 200,
    runs: 5,
    timeLimit: 20,
    protocol: "session",
  };
  const names = {
    "--url": "url",
    "--calls": "calls",
    "--concurrency": "concurrency",
    "--concurrent-calls": "concurrentCalls",
    "--lifecycles": "lifecycles",
    "--runs": "runs",
    "--time-limit": "timeLimit",
    "--protocol": "protocol",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key) throw new Error(`unknown argument ${argv[i]}`);
    args[key] = key === "url" || key === "protocol" ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!args.url) throw new Error("--url is required");
  if (args.protocol !== "session" && args.protocol !== MODERN) {
    throw new Error(`--protocol must be session or ${MODERN}`);
  }
  return args;
}

const now = () => Number(process.hrtime.bigint()) / 1e3; // microseconds

function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(Math.max(Math.ceil(q * sorted.length), 1), sorted.length);
  return sorted[rank - 1];
}

const args = parseArgs(process.argv.slice(2));
const modern = args.protocol === MODERN;
const { Client, StreamableHTTPClientTransport } = modern ? await loadModernClient() : await loadSessionSdk();

async function connect(url) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const options = modern ? { capabilities: {}, versionNegotiation: { mode: { pin: MODERN } } } : undefined;
  const client = new Client({ name: "mcptool-bench-ts", version: "0" }, options);
  await client.connect(transport);
  if (modern && client.getNegotiatedProtocolVersion() !== MODERN) {
    throw new Error(`negotiated ${client.getNegotiatedProtocolVersion()}, not ${MODERN}`);
  }
  return { client, transport };
}

async function close({ client, transport }) {
  // 2026-07-28 has no session to terminate.
  if (!modern) await transport.terminateSession();
  await client.close();
}

async function call(client) {
  const result = await client.callTool({ name: "echo", arguments: { message: "hi" } });
  if (result.isError) throw new Error("the echo tool reported an error");
}

async function oneRun(args) {
  const limitUs = args.timeLimit * 1e6;
  const session = await connect(args.url);
  for (let i = 0; i < Math.floor(args.calls / 10); i++) await call(session.client);
  const samples = [];
  let start = now();
  while (samples.length < args.calls && now() - start < limitUs) {
    const t = now();
    await call(session.client);
    samples.push(now() - t);
  }
  const seqElapsed = now() - start;
  samples.sort((a, b) => a - b);

  let tickets = 0;
  let done = 0;
  start = now();
  const worker = async () => {
    while (tickets++ < args.concurrentCalls && now() - start < limitUs) {
      await call(session.client);
      done++;
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const concElapsed = now() - start;
  await close(session);

  await close(await connect(args.url)); // untimed warm-up round
  const lifecycles = [];
  start = now();
  while (lifecycles.length < args.lifecycles && now() - start < limitUs) {
    const t = now();
    await close(await connect(args.url));
    lifecycles.push((now() - t) / 1e3);
  }
  lifecycles.sort((a, b) => a - b);
  return {
    sequential_calls_per_s: samples.length / (seqElapsed / 1e6),
    concurrent_calls_per_s: done / (concElapsed / 1e6),
    p50_us: percentile(samples, 0.5),
    p99_us: percentile(samples, 0.99),
    connect_close_ms: percentile(lifecycles, 0.5),
  };
}

const runs = [];
for (let r = 0; r < args.runs; r++) runs.push(await oneRun(args));
process.stdout.write(JSON.stringify({ runs }) + "\n");
