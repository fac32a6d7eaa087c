// The babysitter GraphQL API on the Amplify AppSync simulator, for the e2e
// suite and `make graphql`. Nothing here is deployed: template.yaml wires
// AppSync to the resolver directly (no mapping templates).
//
//   node simulator.cjs --schema FILE --lambda-url URL [--api-key KEY] [--port N]
//
// It serves schema.graphql with API_KEY as the default auth mode and
// AMAZON_COGNITO_USER_POOLS as the additional one (as template.yaml does),
// and resolves every Query and Mutation field with one AWS_LAMBDA data
// source whose invoke POSTs the event to a Lambda Runtime Interface
// Emulator (URL = .../2015-03-31/functions/function/invocations). When it
// listens it prints one JSON line on stdout: {"url", "apiKey", "port"}.
//
// The simulator has no direct Lambda resolvers, so each field gets a
// request mapping template that sends the whole direct-resolver event
// (arguments, identity, source, request, info, prev, stash) and a response
// mapping template that raises the function's error as a GraphQL error
// with the function's errorType, as AppSync does for a direct resolver.
//
// Quirks of the simulator handled here (see also the suite's doc.go):
//   - it listens on all interfaces with no option: scripts/loopback.cjs,
//     required first, pins every listen to 127.0.0.1;
//   - it picks its port from 8900-9999 with get-port; we pass a free
//     ephemeral port instead and retry if another process took it;
//   - it sends identity.sourceIp as a string; AppSync sends a list, and
//     the resolver's Identity type expects one, so invoke wraps it;
//   - a rejected invoke reaches the response template as $ctx.error (type,
//     message) only with request template version 2018-05-29.
"use strict";

require("../../../scripts/loopback.cjs");

const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const { parse, Kind } = require("graphql");
const { AmplifyAppSyncSimulator } = require("@aws-amplify/amplify-appsync-simulator");

function parseArgs(argv) {
  const opts = { apiKey: "da2-localdevelopmentkey0000000", port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${name}`);
    i++;
    switch (name) {
      case "--schema": opts.schema = value; break;
      case "--lambda-url": opts.lambdaURL = value; break;
      case "--api-key": opts.apiKey = value; break;
      case "--port": opts.port = Number(value); break;
      default: throw new Error(`unknown flag ${name}`);
    }
  }
  if (!opts.schema || !opts.lambdaURL) {
    throw new Error("usage: simulator.cjs --schema FILE --lambda-url URL [--api-key KEY] [--port N]");
  }
  return opts;
}

// The direct-resolver event AppSync would send, built from the context.
// $ctx.prev is undefined in a unit resolver, which $util.toJson would
// print as nothing, so it is written as null.
const REQUEST_TEMPLATE = `{
  "version": "2018-05-29",
  "operation": "Invoke",
  "payload": {
    "arguments": $util.toJson($ctx.arguments),
    "identity": $util.toJson($ctx.identity),
    "source": $util.toJson($ctx.source),
    "request": $util.toJson($ctx.request),
    "info": $util.toJson($ctx.info),
    "prev": #if($ctx.prev)$util.toJson($ctx.prev)#{else}null#end,
    "stash": $util.toJson($ctx.stash)
  }
}`;

const RESPONSE_TEMPLATE = `#if($ctx.error)
$util.error($ctx.error.message, $ctx.error.type)
#end
$util.toJson($ctx.result)`;

// Every field of the query and mutation root types.
function rootFields(schemaText) {
  const doc = parse(schemaText);
  const roots = { query: "Query", mutation: "Mutation" };
  for (const def of doc.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION) {
      for (const op of def.operationTypes) roots[op.operation] = op.type.name.value;
    }
  }
  const wanted = new Set([roots.query, roots.mutation]);
  const fields = [];
  for (const def of doc.definitions) {
    if ((def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION) && wanted.has(def.name.value)) {
      for (const f of def.fields || []) fields.push({ typeName: def.name.value, fieldName: f.name.value });
    }
  }
  return fields;
}

// A function error, as the response template sees it: $ctx.error.type is
// the function's errorType, $ctx.error.message its errorMessage.
function lambdaError(type, message) {
  const err = new Error(message);
  err.type = type;
  return err;
}

// The emulator runs one invocation at a time (an overlapping one crashes
// it), so invocations are queued here.
let queue = Promise.resolve();
function serialized(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function isFunctionError(v) {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  if (typeof v.errorType !== "string" || typeof v.errorMessage !== "string") return false;
  return Object.keys(v).every((k) => ["errorType", "errorMessage", "stackTrace"].includes(k));
}

// invoke is the data source: the emulator's answer classified the way
// Lambda's Invoke API would report it to AppSync. A handled function error
// (HTTP 200, {errorType, errorMessage}) keeps its errorType; a crash (the
// emulator's 502 for a panic or an exit) and a timeout (HTTP 200 with a
// plain-text "Task timed out" body) become Lambda:Unhandled, as AppSync
// reports an unhandled function error. Nothing of a failure is data.
function invoke(lambdaURL) {
  return (payload) => serialized(async () => {
    const id = payload && payload.identity;
    if (id && typeof id.sourceIp === "string") id.sourceIp = [id.sourceIp];
    let res;
    try {
      res = await post(lambdaURL, JSON.stringify(payload));
    } catch (e) {
      throw lambdaError("Lambda:Unhandled", `the function could not be invoked: ${e.message}`);
    }
    if (res.status === 200 && res.body.startsWith("Task timed out")) {
      throw lambdaError("Lambda:Unhandled", `the function timed out: ${res.body.trim()}`);
    }
    let body;
    try {
      body = JSON.parse(res.body);
    } catch (_) {
      throw lambdaError("Lambda:Unhandled", `the function failed (HTTP ${res.status}): ${res.body.trim().slice(0, 300)}`);
    }
    if (res.status !== 200) {
      const msg = body && body.errorMessage ? `${body.errorType}: ${body.errorMessage}` : res.body.slice(0, 300);
      throw lambdaError("Lambda:Unhandled", `the function crashed (HTTP ${res.status}): ${msg}`);
    }
    if (isFunctionError(body)) throw lambdaError(body.errorType, body.errorMessage);
    return body;
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const schemaText = fs.readFileSync(opts.schema, "utf8");
  const resolvers = [];
  const mappingTemplates = [];
  for (const { typeName, fieldName } of rootFields(schemaText)) {
    const req = `${typeName}.${fieldName}.req.vtl`;
    const res = `${typeName}.${fieldName}.res.vtl`;
    mappingTemplates.push({ path: req, content: REQUEST_TEMPLATE }, { path: res, content: RESPONSE_TEMPLATE });
    resolvers.push({
      kind: "UNIT",
      typeName,
      fieldName,
      dataSourceName: "resolver",
      requestMappingTemplateLocation: req,
      responseMappingTemplateLocation: res,
    });
  }
  const config = {
    schema: { path: opts.schema, content: schemaText },
    resolvers,
    mappingTemplates,
    dataSources: [{ name: "resolver", type: "AWS_LAMBDA", invoke: invoke(opts.lambdaURL) }],
    appSync: {
      name: "babysitter-local",
      apiKey: opts.apiKey,
      defaultAuthenticationType: { authenticationType: "API_KEY" },
      additionalAuthenticationProviders: [
        { authenticationType: "AMAZON_COGNITO_USER_POOLS", cognitoUserPoolConfig: {} },
      ],
    },
  };

  let simulator;
  let port;
  for (let attempt = 1; ; attempt++) {
    port = opts.port || (await freePort());
    simulator = new AmplifyAppSyncSimulator({ port, wsPort: 0 });
    simulator.init(config);
    try {
      await simulator.start();
      break;
    } catch (e) {
      if (opts.port || attempt >= 5) throw e;
    }
  }
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}/graphql`, apiKey: opts.apiKey, port, fields: resolvers.length }) + "\n");

  const stop = () => {
    simulator.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // When stdin is a pipe, the parent (the test binary, `make graphql`)
  // holds its other end: when the parent goes away, so do we.
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.on("end", stop);
    process.stdin.on("error", stop);
    process.stdin.resume();
  }
}

main().catch((e) => {
  console.error(`simulator: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
