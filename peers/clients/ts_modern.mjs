// The TypeScript client 2.x (npm @modelcontextprotocol/client), speaking MCP 2026-07-28,
// against one endpoint.
//
//     node peers/clients/ts_modern.mjs http://127.0.0.1:PORT/mcp
//
// Runs the scenario of crates/mcptool-server/tests/modern_peer_clients.rs and prints one JSON
// object on stdout; any failure exits non-zero with a message on stderr. The package comes from
// the folder named by MCPTOOL_PEERS_NODE, by default <repo>/.peers/node (installed by
// scripts/install-peers.sh). Every step uses the client's own 2026-07-28 API:
//
// - version: `versionNegotiation: { mode: { pin: "2026-07-28" } }`: connect() sends
//   server/discover, which must offer 2026-07-28; no initialize and no fallback to the session
//   era (anything else fails connect()). getDiscoverResult() / getServerVersion() report it;
// - tools: listTools() walks every page itself; callTool();
// - elicitation: the `elicitation/create` handler registered with setRequestHandler (the
//   capability declared as `elicitation: { form: {} }`); callTool() fulfils an `input_required`
//   result through it and retries with inputResponses and requestState (MRTR) by itself;
// - list changes: listen({ toolsListChanged: true }) opens subscriptions/listen; the
//   notifications on that stream reach setNotificationHandler("notifications/tools/list_changed").
import path from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const VERSION = "2026-07-28";
const OVERALL_TIMEOUT_MS = 28_000;
const NOTIFICATION_TIMEOUT_MS = 10_000;

function fail(message) {
  console.error(`ts_modern: ${message}`);
  process.exit(1);
}

const url = process.argv[2];
if (!url || process.argv.length !== 3) {
  console.error("usage: node ts_modern.mjs <MCP endpoint URL>");
  process.exit(2);
}
const overall = setTimeout(() => fail(`scenario did not finish within ${OVERALL_TIMEOUT_MS} ms`), OVERALL_TIMEOUT_MS);

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = process.env.MCPTOOL_PEERS_NODE || path.join(here, "../../.peers/node");
const pkgDir = path.join(peers, "node_modules/@modelcontextprotocol/client");

async function loadClientPackage() {
  // The package's own export map names its ESM entry.
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const entry = manifest.exports["."].import.default;
  return import(pathToFileURL(path.join(pkgDir, entry)).href);
}

function textOf(result, tool) {
  if (result.isError) throw new Error(`${tool} returned isError: ${JSON.stringify(result)}`);
  const texts = (result.content ?? []).filter((block) => block.type === "text").map((block) => block.text);
  if (texts.length === 0) throw new Error(`${tool} returned no text content: ${JSON.stringify(result)}`);
  return texts.join("");
}

async function toolNames(client) {
  // No cursor: the client walks every page and aggregates. "refresh": always ask the server
  // (the client would serve a listing still fresh by ttlMs from its cache).
  const { tools } = await client.listTools(undefined, { cacheMode: "refresh" });
  return tools.map((tool) => tool.name);
}

async function scenario() {
  const { Client, StreamableHTTPClientTransport } = await loadClientPackage();
  const client = new Client(
    { name: "mcptool-peer-ts-modern", version: "1.0.0" },
    {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode: { pin: VERSION } },
    },
  );

  let elicitations = 0;
  client.setRequestHandler("elicitation/create", async (request) => {
    elicitations += 1;
    const params = request.params;
    if ((params.mode ?? "form") !== "form") throw new Error(`expected form mode, got ${JSON.stringify(params)}`);
    if (params.requestedSchema?.properties?.answer?.type !== "string") {
      throw new Error(`no string 'answer' in ${JSON.stringify(params.requestedSchema)}`);
    }
    return { action: "accept", content: { answer: "Ada" } };
  });

  let listChangedArrived;
  const listChanged = new Promise((resolve) => {
    listChangedArrived = resolve;
  });
  client.setNotificationHandler("notifications/tools/list_changed", () => listChangedArrived(true));

  // 1. connect = server/discover at the pinned version.
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const negotiated = client.getNegotiatedProtocolVersion();
  if (negotiated !== VERSION || client.getProtocolEra() !== "modern") {
    throw new Error(`negotiated ${negotiated} (${client.getProtocolEra()}), not ${VERSION}`);
  }
  const discovered = client.getDiscoverResult();
  if (!discovered?.supportedVersions?.includes(VERSION)) {
    throw new Error(`server does not offer ${VERSION}: ${JSON.stringify(discovered)}`);
  }
  const info = client.getServerVersion();
  const discover = {
    supportedVersions: discovered.supportedVersions,
    serverName: info?.name ?? null,
    serverVersion: info?.version ?? null,
  };

  // 2. tools/list.
  const tools = await toolNames(client);

  // 3. echo.
  const echo = textOf(await client.callTool({ name: "echo", arguments: { message: "hello" } }), "echo");

  // 4. ask: input_required -> elicitation/create handler -> retry, all inside callTool().
  const ask = textOf(await client.callTool({ name: "ask", arguments: { question: "Your name?" } }), "ask");

  // 5. subscriptions/listen, toggle_tools, wait for notifications/tools/list_changed.
  const subscription = await client.listen({ toolsListChanged: true });
  if (!subscription.honoredFilter.toolsListChanged) {
    throw new Error(`server did not honor toolsListChanged: ${JSON.stringify(subscription.honoredFilter)}`);
  }
  textOf(await client.callTool({ name: "toggle_tools", arguments: {} }), "toggle_tools");
  let timer;
  const arrived = await Promise.race([
    listChanged,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), NOTIFICATION_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!arrived) throw new Error(`no notifications/tools/list_changed within ${NOTIFICATION_TIMEOUT_MS} ms`);
  const toolsAfterToggle = await toolNames(client);

  // 6. close the subscription and the client.
  await subscription.close();
  await client.close();

  return {
    client: "typescript @modelcontextprotocol/client 2.x",
    protocolVersion: negotiated,
    discover,
    tools,
    echo,
    ask,
    elicitations,
    listChanged: arrived,
    toolsAfterToggle,
  };
}

try {
  const report = await scenario();
  clearTimeout(overall);
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
} catch (error) {
  fail(error?.stack ?? String(error));
}
