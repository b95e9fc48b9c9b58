//! Real MCP peer servers (TypeScript SDK, Python SDK, rmcp) started for interop tests.
