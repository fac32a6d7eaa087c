package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter"
)

func TestDecodeJSON(t *testing.T) {
	type in struct {
		Name string          `json:"name"`
		Date babysitter.Date `json:"date"`
		N    int             `json:"n"`
	}
	cases := []struct {
		body, contentType string
		allowEmpty        bool
		status            int    // 0: success
		field, msg        string // of the first field error, when 400
	}{
		{body: `{"name":"x"}`, contentType: "application/json"},
		{body: `{"name":"x"}`, contentType: "application/json; charset=UTF-8"},
		{body: "  \n", allowEmpty: true},
		{body: "", allowEmpty: true, contentType: "text/plain"},
		{body: "", status: 400, field: "body", msg: "required"},
		{body: `{"name":"x"}`, contentType: "", status: 415},
		{body: `{"name":"x"}`, contentType: "text/json", status: 415},
		{body: `{"name":"x"}`, contentType: "application/json; charset=latin1", status: 415},
		{body: `{"name":"x"}`, contentType: "application/json; charset", status: 415},
		{body: `[1]`, contentType: "application/json", status: 400, field: "body", msg: "JSON object"},
		{body: `"x"`, contentType: "application/json", status: 400, field: "body", msg: "JSON object"},
		{body: "{\n\"name\": x}", contentType: "application/json", status: 400, field: "body", msg: "line 2, column"},
		{body: `{"name":"x"`, contentType: "application/json", status: 400, field: "body", msg: "ends before"},
		{body: `{"name":"x"} x`, contentType: "application/json", status: 400, field: "body", msg: "after the JSON object"},
		{body: `{"name":"x"}{}`, contentType: "application/json", status: 400, field: "body", msg: "after the JSON object"},
		{body: `{"name":1}`, contentType: "application/json", status: 400, field: "name", msg: "must be a string, not number"},
		{body: `{"n":1.5}`, contentType: "application/json", status: 400, field: "n", msg: "integer"},
		{body: `{"n":1e400}`, contentType: "application/json", status: 400, field: "n", msg: "integer"},
		{body: `{"date":5}`, contentType: "application/json", status: 400, field: "date", msg: "YYYY-MM-DD"},
		{body: `{"date":"2023-02-30"}`, contentType: "application/json", status: 400, field: "body", msg: "2023-02-30"},
		{body: `{"nickname":"x"}`, contentType: "application/json", status: 400, field: "nickname", msg: "unknown field"},
		{body: `{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, contentType: "application/json", status: 413},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		var v in
		err := decodeJSON(httptest.NewRecorder(), r, &v, c.allowEmpty)
		name := c.body
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		if c.status == 0 {
			if err != nil {
				t.Errorf("%q (%s): %v", name, c.contentType, err)
			}
			continue
		}
		p := problemFor(err)
		if p.Status != c.status {
			t.Errorf("%q (%s): status %d (%v), want %d", name, c.contentType, p.Status, err, c.status)
			continue
		}
		if c.status == 400 {
			var ie *babysitter.InvalidInputError
			if !errors.As(err, &ie) || len(ie.Fields) != 1 || ie.Fields[0].Field != c.field || !strings.Contains(ie.Fields[0].Message, c.msg) {
				t.Errorf("%q: %v; want field %q with %q", name, err, c.field, c.msg)
			}
		}
	}
}

func TestPosition(t *testing.T) {
	body := []byte("ab\ncd\n\nef")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {7, 4, 1}, {100, 4, 3}, {-1, 1, 1}} {
		if l, col := position(body, c.off); l != c.line || col != c.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", c.off, l, col, c.line, c.col)
		}
	}
}

func TestPageRequest(t *testing.T) {
	for q, want := range map[string]babysitter.PageRequest{
		"":                  {},
		"limit=10&cursor=x": {Limit: 10, Cursor: "x"},
		"limit=500":         {Limit: 500}, // the library refuses it
	} {
		got, err := pageRequest(httptest.NewRequest("GET", "/?"+q, nil))
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v", q, got, err)
		}
	}
	for _, q := range []string{"limit=", "limit=0", "limit=-1", "limit=ten", "limit=1.5"} {
		if _, err := pageRequest(httptest.NewRequest("GET", "/?"+q, nil)); problemFor(err).Status != http.StatusBadRequest {
			t.Errorf("%q: %v; want a 400", q, err)
		}
	}
}
