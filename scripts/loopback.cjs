// Preloaded with `node --require ./scripts/loopback.cjs` in front of fauxqs.
//
// Why: fauxqs 2.x hard-codes `app.listen({ host: "0.0.0.0" })`; FAUXQS_HOST
// only changes the host written into queue URLs, not the bind address. A test
// server must never be reachable from other machines, so this patch rewrites
// every TCP listen in the process to 127.0.0.1. Unix sockets and pipes are left
// alone. It touches nothing else.
"use strict";

const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const originalListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    // listen({ port, host, ... }, cb) — the form fastify uses.
    if (first.path === undefined && first.fd === undefined && first.handle === undefined && first._handle === undefined) {
      args[0] = { ...first, host: LOOPBACK };
    }
  } else if (first === undefined || typeof first === "function") {
    // listen() or listen(cb): Node would pick a port on all interfaces.
    args.splice(0, first === undefined ? 1 : 0, 0, LOOPBACK);
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb])
    if (typeof args[1] === "string") {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  }
  return originalListen.apply(this, args);
};
