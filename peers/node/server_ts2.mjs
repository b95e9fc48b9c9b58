// Interop peer: the TypeScript server SDK 2.x (npm @modelcontextprotocol/server) on 127.0.0.1,
// over Streamable HTTP at /mcp.
//
//     node --require peers/node/loopback.cjs peers/node/server_ts2.mjs --port 8123 [--era both|modern|sessions]
//
// Eras, as the package serves them (read from its createMcpHandler and
// WebStandardStreamableHTTPServerTransport):
// - both (default): `createMcpHandler(factory)`. 2026-07-28 requests (a `_meta` envelope claim)
//   go to a per-request instance; 2025-era requests (initialize, no claim) go to the package's
//   stateless legacy fallback: a fresh instance per POST, no Mcp-Session-Id, GET and DELETE 405.
// - modern: `createMcpHandler(factory, { legacy: "reject" })`. 2026-07-28 only; an initialize
//   is refused with -32022 (unsupported protocol version) naming 2026-07-28.
// - sessions: the package's documented hand wiring. `isLegacyRequest` routes 2025-era traffic to
//   a sessionful WebStandardStreamableHTTPServerTransport (one per Mcp-Session-Id, DELETE ends
//   it) and everything else to a modern-only `createMcpHandler`.
//
// Tools: echo {message} (text), add {a, b} (structured), era {} (which era the instance that
// ran the call was built for, and the MCP-Protocol-Version header of the request).
//
// GET /stats (same listener) answers what the server saw, as JSON: openConnections,
// connectionsOpened (both leave out the connections that asked for /stats), sessionsOpened,
// sessionsClosed, liveSessions, and requests (HTTP method, JSON-RPC method, MCP-Protocol-Version,
// Mcp-Method and Mcp-Session-Id headers, status; null while the response has not begun).
// The package comes from MCPTOOL_PEERS_NODE, by default <repo>/.peers/node.
import http from "node:http";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const LOOPBACK = "127.0.0.1";
const ERAS = ["both", "modern", "sessions"];

function usage(message) {
  console.error(`server_ts2: ${message}\nusage: node server_ts2.mjs --port PORT [--era ${ERAS.join("|")}]`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { port: undefined, era: "both" };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === "--port") args.port = Number(value);
    else if (flag === "--era") args.era = value;
    else usage(`unknown argument ${flag}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0) usage("--port must be a port number");
  if (!ERAS.includes(args.era)) usage(`--era must be one of ${ERAS.join(", ")}`);
  return args;
}

async function loadServerPackage() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const peers = process.env.MCPTOOL_PEERS_NODE || path.join(here, "../../.peers/node");
  const pkgDir = path.join(peers, "node_modules/@modelcontextprotocol/server");
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const sdk = await import(pathToFileURL(path.join(pkgDir, manifest.exports["."].import.default)).href);
  return { sdk, version: manifest.version };
}

const { sdk, version: sdkVersion } = await loadServerPackage();
const { McpServer, createMcpHandler, fromJsonSchema, isLegacyRequest, WebStandardStreamableHTTPServerTransport } = sdk;

const text = (value) => ({ content: [{ type: "text", text: value }] });

/** One server definition for every era (the factory the package calls per request or session). */
function buildServer({ era, requestInfo }) {
  const server = new McpServer({ name: "mcptool-interop-ts2", version: sdkVersion }, { capabilities: { tools: {} } });
  server.registerTool(
    "echo",
    {
      description: "Echoes the message back",
      inputSchema: fromJsonSchema({
        type: "object",
        properties: { message: { type: "string" } },
        required: ["message"],
      }),
    },
    async ({ message }) => text(message),
  );
  server.registerTool(
    "add",
    {
      description: "Adds two integers; the result is structured",
      inputSchema: fromJsonSchema({
        type: "object",
        properties: { a: { type: "integer" }, b: { type: "integer" } },
        required: ["a", "b"],
      }),
      outputSchema: fromJsonSchema({
        type: "object",
        properties: { sum: { type: "integer" } },
        required: ["sum"],
      }),
    },
    async ({ a, b }) => ({ ...text(JSON.stringify({ sum: a + b })), structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    "era",
    { description: "Names the era the serving instance was built for" },
    async (ctx) => {
      const header = ctx.http?.req?.headers.get("mcp-protocol-version") ?? requestInfo?.headers.get("mcp-protocol-version");
      return text(JSON.stringify({ era, protocolVersionHeader: header ?? null }));
    },
  );
  return server;
}

/** Open sockets, and the ones that asked for /stats (an observer is not a client). */
const sockets = new Set();
const observers = new WeakSet();
let observersEver = 0;
let socketsEver = 0;

const stats = {
  sessionsOpened: 0,
  sessionsClosed: 0,
  liveSessions: 0,
  requests: [],
};

/** The fetch-shaped handler for the chosen era. */
function eraHandler(era) {
  if (era === "both") return createMcpHandler(buildServer).fetch;
  const modern = createMcpHandler(buildServer, { legacy: "reject" }).fetch;
  if (era === "modern") return modern;
  const sessions = new Map();
  const sessionful = async (request) => {
    const id = request.headers.get("mcp-session-id");
    const existing = id === null ? undefined : sessions.get(id);
    if (existing !== undefined) return existing.handleRequest(request);
    if (id !== null) {
      return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }, { status: 404 });
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, transport);
        stats.sessionsOpened += 1;
        stats.liveSessions = sessions.size;
      },
      onsessionclosed: (sessionId) => {
        if (sessions.delete(sessionId)) stats.sessionsClosed += 1;
        stats.liveSessions = sessions.size;
      },
    });
    await buildServer({ era: "legacy", requestInfo: request }).connect(transport);
    return transport.handleRequest(request);
  };
  return async (request) => ((await isLegacyRequest(request)) ? sessionful(request) : modern(request));
}

/** What one request was, for /stats: read from a copy of the body, never from the original. */
function describe(req, body) {
  let rpcMethod = null;
  try {
    const parsed = body.length > 0 ? JSON.parse(body.toString("utf8")) : null;
    rpcMethod = parsed?.method ?? (parsed && "result" in parsed ? "(response)" : null);
  } catch {
    rpcMethod = "(unparseable)";
  }
  return {
    httpMethod: req.method,
    rpcMethod,
    protocolVersionHeader: req.headers["mcp-protocol-version"] ?? null,
    mcpMethodHeader: req.headers["mcp-method"] ?? null,
    sessionId: req.headers["mcp-session-id"] ?? null,
    status: null,
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** node:http -> web Request -> handler -> web Response -> node:http, streaming the body. */
async function serve(handler, req, res) {
  const body = await readBody(req);
  if (req.method === "GET" && req.url === "/stats") {
    if (!observers.has(req.socket)) {
      observers.add(req.socket);
      observersEver += 1;
    }
    const openConnections = [...sockets].filter((socket) => !observers.has(socket)).length;
    const report = { openConnections, connectionsOpened: socketsEver - observersEver, ...stats };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(report));
    return;
  }
  if (new URL(req.url, "http://x").pathname !== "/mcp") {
    res.writeHead(404).end();
    return;
  }
  const seen = describe(req, body);
  stats.requests.push(seen);
  // The client closing its side aborts the request (2026-07-28 cancellation).
  const aborted = new AbortController();
  res.on("close", () => aborted.abort());
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const request = new Request(new URL(req.url, `http://${req.headers.host ?? LOOPBACK}`), {
    method: req.method,
    headers,
    body: body.length > 0 && req.method !== "GET" && req.method !== "HEAD" ? body : undefined,
    signal: aborted.signal,
  });
  const response = await handler(request);
  seen.status = response.status;
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on("close", () => reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    res.write(value);
  }
  res.end();
}

const args = parseArgs(process.argv.slice(2));
const handler = eraHandler(args.era);
const httpServer = http.createServer((req, res) => {
  serve(handler, req, res).catch((error) => {
    console.error(`server_ts2: ${error?.stack ?? error}`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
httpServer.on("connection", (socket) => {
  sockets.add(socket);
  socketsEver += 1;
  socket.on("close", () => sockets.delete(socket));
});
httpServer.listen(args.port, LOOPBACK, () => {
  console.log(`server_ts2 ${sdkVersion} (${args.era}) listening on http://${LOOPBACK}:${httpServer.address().port}/mcp`);
});
