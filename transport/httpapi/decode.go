package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/babysitter-go/babysitter"
)

// maxBodyBytes bounds a request body. The largest legitimate body, a full
// user profile, is a few KiB; the limit keeps a client from making the
// server buffer megabytes.
const maxBodyBytes = 64 << 10

// bodyField is the field name of errors about the body as a whole (syntax,
// trailing data) rather than one of its fields.
const bodyField = "body"

// decodeJSON reads r's body into dst, a pointer to a struct: one JSON
// object, no unknown fields, nothing after it, at most maxBodyBytes. An
// empty body is accepted, leaving dst as it is, only when allowEmpty. Every
// failure is an error problemFor maps to a 4xx — never a 500 — and the
// handler returns before calling the Service, so a bad body writes nothing.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return invalidBody("could not read the request body")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		if allowEmpty {
			return nil
		}
		return invalidBody("a JSON object is required")
	}
	if err := checkContentType(r); err != nil {
		return err
	}
	// Decoding null into a struct succeeds and changes nothing, which
	// would turn "null" or "[]"-like mistakes into a default request.
	if trimmed[0] != '{' {
		return invalidBody("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(body, dec.InputOffset())
		return invalidBody(fmt.Sprintf("unexpected data after the JSON object at line %d, column %d", line, col))
	}
	return nil
}

// checkContentType accepts application/json, with no charset or UTF-8
// (JSON is UTF-8; RFC 8259).
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return fmt.Errorf("%w; Content-Type is missing", errUnsupportedMediaType)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return fmt.Errorf("%w, not %q", errUnsupportedMediaType, ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return fmt.Errorf("%w with charset utf-8, not %q", errUnsupportedMediaType, cs)
	}
	return nil
}

// invalidBody is an invalid-input error about the body as a whole.
func invalidBody(msg string) error {
	return &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: bodyField, Message: msg}}}
}

// decodeError turns a json.Decoder error into an invalid-input error that
// names the problem: where the syntax breaks, which field has the wrong
// type, which field is unknown.
func decodeError(body []byte, err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		internal *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &syntax):
		line, col := position(body, syntax.Offset)
		return invalidBody(fmt.Sprintf("malformed JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(syntax.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidBody("malformed JSON: the body ends before the object does")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = bodyField
		}
		return &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{
			Field:   field,
			Message: fmt.Sprintf("must be %s, not %s", describeType(typeErr.Type), typeErr.Value),
		}}}
	case errors.As(err, &internal):
		return err // a programming error (dst is not a pointer): a 500 is right
	}
	// encoding/json reports an unknown field only in the message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: name, Message: "unknown field"}}}
	}
	// What is left are the values' own parse errors (dates, times of day),
	// whose messages say what was expected and what came.
	return invalidBody(err.Error())
}

// describeType names a Go type as the JSON value it decodes from.
func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[babysitter.Date]():
		return `a date string "YYYY-MM-DD"`
	case reflect.TypeFor[babysitter.TimeOfDay]():
		return `a time string "HH:MM"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number in range"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return describeType(t.Elem())
	default:
		return "an object"
	}
}

// position converts a byte offset into a 1-based line and column.
func position(body []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(body)))
	before := body[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}
