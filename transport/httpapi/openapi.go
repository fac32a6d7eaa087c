package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the API's contract, openapi.yaml beside this file.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the API (YAML), which the
// Handler also serves at GET /openapi.yaml. The caller may not modify it.
func OpenAPI() []byte { return openAPI }

// serveOpenAPI is GET /openapi.yaml. The document is public and the same
// for everyone, so caches may keep it for a while.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
