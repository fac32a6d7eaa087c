package httpapi

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/babysitter-go/babysitter"
)

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "BEARER abc": "abc"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		if got, ok, err := bearerToken(r); got != want || !ok || err != nil {
			t.Errorf("%q: %q, %v, %v", h, got, ok, err)
		}
	}
	for _, h := range []string{"Bearer", "Bearer ", "Basic abc", "abc"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		if _, ok, err := bearerToken(r); !ok || !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%q: %v, %v", h, ok, err)
		}
	}
	if _, ok, err := bearerToken(httptest.NewRequest("GET", "/", nil)); ok || err != nil {
		t.Errorf("no header: %v, %v", ok, err)
	}
}
