package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// GraphQL is a client of the API.
type GraphQL struct {
	URL    string
	APIKey string
	HTTP   *http.Client
}

// Response is a GraphQL response as AppSync sends it.
type Response struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []GraphQLError             `json:"errors"`
	// Status is the HTTP status (the simulator answers 401 when the
	// request carries no valid credentials at all).
	Status int `json:"-"`
	// Raw is the response body.
	Raw []byte `json:"-"`
}

// GraphQLError is one entry of errors: AppSync puts the errorType next to
// the message.
type GraphQLError struct {
	Message   string `json:"message"`
	ErrorType string `json:"errorType"`
	Path      []any  `json:"path"`
}

// Do sends a query or mutation. token is a Cognito ID token for the
// Authorization header; "" sends the API key instead.
func (g *GraphQL) Do(ctx context.Context, token, query string, variables map[string]any) (*Response, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	} else {
		req.Header.Set("x-api-key", g.APIKey)
	}
	client := g.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &Response{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("graphql: HTTP %d, not a GraphQL response: %s", resp.StatusCode, raw)
	}
	return r, nil
}

// ErrorType is the errorType of the first error that has one, or "".
func (r *Response) ErrorType() string {
	for _, e := range r.Errors {
		if e.ErrorType != "" {
			return e.ErrorType
		}
	}
	return ""
}
