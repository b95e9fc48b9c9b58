// Preloaded with `node --require` so that a peer server which binds every interface (it has no
// host setting) listens on 127.0.0.1 only. Rewrites the host of every net.Server#listen call:
// listen(port[, host][, backlog][, cb]) and listen({port, host, ...}[, cb]).
"use strict";
const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const original = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    if (first.path === undefined && first.fd === undefined && first._handle === undefined) {
      args[0] = { ...first, host: LOOPBACK };
    }
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] === "string") {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  }
  return original.apply(this, args);
};
