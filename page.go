package babysitter

import (
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Page sizes.
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// PageRequest asks for one page of a list: at most Limit items (0 means
// DefaultLimit) after the position Cursor names ("" for the first page).
type PageRequest struct {
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

// Size is the page size a Store reads: Limit within 1..MaxLimit, DefaultLimit
// when unset. The Service normalizes requests; Size also bounds a Store
// called directly with a zero or oversized Limit.
func (p PageRequest) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// normalize applies the default limit and rejects out-of-range values.
func (p PageRequest) normalize() (PageRequest, error) {
	switch {
	case p.Limit == 0:
		p.Limit = DefaultLimit
	case p.Limit < 0 || p.Limit > MaxLimit:
		return p, invalid("limit", "must be between 1 and %d", MaxLimit)
	}
	if len(p.Cursor) > 2048 {
		return p, invalid("cursor", "is not a cursor of this list")
	}
	return p, nil
}

// Page is one page of a list. NextCursor is empty on the last page; it is
// built from the last item returned, so nothing is skipped between pages.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// cursor is the JSON inside an opaque cursor. Scope binds it to one list
// (for example "jobs-by-status:OPEN"), so a cursor from another list or
// partition is rejected instead of read.
type cursor struct {
	V     int               `json:"v"`
	Scope string            `json:"s"`
	Key   map[string]string `json:"k"`
}

// EncodeCursor builds the opaque cursor a backend returns: the key of the
// last item returned, bound to the list's scope.
func EncodeCursor(scope string, key map[string]string) string {
	b, _ := json.Marshal(cursor{V: 1, Scope: scope, Key: key}) // maps of strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the key inside a cursor made by EncodeCursor for the
// same scope. Anything else — bad encoding, another list's cursor, an empty
// key — is an InvalidInputError on the field "cursor".
func DecodeCursor(scope, s string) (map[string]string, error) {
	bad := invalid("cursor", "is not a cursor of this list")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(b) {
		return nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 || c.Scope != scope || len(c.Key) == 0 {
		return nil, bad
	}
	for k, v := range c.Key {
		if k == "" || v == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, bad
		}
	}
	return c.Key, nil
}
