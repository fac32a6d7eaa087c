package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// BenchmarkGetUser measures GET /v1/users/{username} through the whole
// handler — middleware with its JSON log line (to io.Discard), routing,
// the Service and the memory store, JSON encoding — and reports requests
// per second. "handler" calls it in process from GOMAXPROCS goroutines;
// "loopback" goes through a real HTTP server and client over TCP
// keep-alive connections from as many parallel clients.
func BenchmarkGetUser(b *testing.B) {
	store, queue, _ := memoryBackend.open(b)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	svc := babysitter.New(store, queue, babysitter.Options{Logger: log})
	h := New(svc, jwtauth.NewHS256(testKey, 0), Options{Logger: log})
	if _, err := svc.CreateUser(b.Context(), babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}, babysitter.NewUser{
		Username: "alice", Email: "alice@example.com", Type: babysitter.UserParent,
		Profile: babysitter.Profile{FirstName: "Alice", LastName: "Example", DateOfBirth: babysitter.Date{Year: 1990, Month: 5, Day: 17}},
	}); err != nil {
		b.Fatal(err)
	}

	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/users/alice", nil))
				if rec.Code != http.StatusOK {
					b.Errorf("status %d", rec.Code)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})

	b.Run("loopback", func(b *testing.B) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(ts.URL + "/v1/users/alice")
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})
}
