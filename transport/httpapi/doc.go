// Package httpapi serves a babysitter.Service over HTTP: JSON in and out,
// RFC 9457 problem details for errors, bearer-token authentication,
// one structured log line per request, health checks, and a per-caller
// write limit.
//
//	h := httpapi.New(svc, jwtauth.NewHS256(key, 0), httpapi.Options{Logger: logger})
//	srv := &http.Server{Addr: ":8080", Handler: h, ReadHeaderTimeout: 5 * time.Second}
//
// The contract is openapi.yaml (OpenAPI 3.1) in this package, served at
// GET /openapi.yaml and returned by OpenAPI: every route, parameter,
// request and response body, and every error response. The tests check
// each request and response they make against it. The JSON names are the
// library's (the Go types' JSON tags), which the GraphQL schema of
// examples/lambda uses too.
//
// Routes: /v1/users, /v1/users/{username} (GET without a token shows the
// public profile), …/status, …/jobs, …/applications, …/reviews (public);
// /v1/jobs (?jobStatus= or ?latitude=&longitude=&radiusKm=),
// /v1/jobs/{jobId}, …/cancel, …/complete, …/applications,
// …/applications/{applicationId}/withdraw, …/booking, …/reconcile,
// …/reviews; GET /healthz, GET /readyz (503 once Drain is called),
// GET /openapi.yaml.
//
// Lists answer a page, {"items":[…],"nextCursor":"…"} without nextCursor
// on the last page, for ?limit= (1–100) and ?cursor=. Errors carry a
// stable code: invalid_input 400 (with "errors": [{field, message}]),
// unauthenticated 401 (with WWW-Authenticate), forbidden 403, not_found
// 404, method_not_allowed 405 (with Allow), already_exists 409 (with
// "field"), conflict 409, body_too_large 413, unsupported_media_type 415,
// rate_limited 429 (with Retry-After), internal 500, unavailable and
// timeout 503. Unknown body fields and unknown query parameters are
// invalid input. A committed booking or cancellation is always answered as
// such: if its decline message cannot be sent ("declinesQueued": 0), a
// babysitter.Decliner's sweeper declines the other applications later.
//
// Every API response says Cache-Control: private, no-store (the routes
// that answer without a token also Vary: Authorization). The package
// jwtauth has the Authenticators of development (HS256) and production
// (Cognito user pools); examples/http wires them to flags and runs the
// server.
package httpapi
