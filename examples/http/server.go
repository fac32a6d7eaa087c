package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/babysitter-go/babysitter"
)

// requestTimeout bounds the backend work of one request, below the
// server's WriteTimeout so the client gets a problem rather than a cut
// connection.
const requestTimeout = 20 * time.Second

// server is the HTTP face of a babysitter.Service.
type server struct {
	svc  *babysitter.Service
	auth authenticator
	log  *slog.Logger
	// writes limits each caller's writes; nil for no limit.
	writes *writeLimiter
	// draining is set when a graceful stop begins, so /readyz tells load
	// balancers to send no more traffic while requests in flight finish.
	draining atomic.Bool
}

// handler is a route's handler: it gets the caller and returns an error
// instead of writing one, so that every failure goes through problemFor.
type handler func(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error

// Authentication requirements of a route.
const (
	tokenRequired = true
	tokenOptional = false
)

// apiRoute is one route of the API: its ServeMux pattern, whether it needs
// a token, and its handler.
type apiRoute struct {
	pattern  string
	required bool
	h        handler
}

// apiRoutes is the route table. The package documentation lists the same
// routes (TestRoutesDocumented keeps the two in step).
func (s *server) apiRoutes() []apiRoute {
	return []apiRoute{
		{"POST /v1/users", tokenRequired, s.createUser},
		{"GET /v1/users", tokenRequired, s.listUsers},
		{"GET /v1/users/{username}", tokenOptional, s.getUser},
		{"PATCH /v1/users/{username}", tokenRequired, s.updateUser},
		{"DELETE /v1/users/{username}", tokenRequired, s.deleteUser},
		{"PUT /v1/users/{username}/status", tokenRequired, s.updateUserStatus},
		{"GET /v1/users/{username}/jobs", tokenRequired, s.listJobsByParent},
		{"GET /v1/users/{username}/applications", tokenRequired, s.listJobsAppliedTo},
		{"GET /v1/users/{username}/reviews", tokenOptional, s.listReviews},

		{"POST /v1/jobs", tokenRequired, s.createJob},
		{"GET /v1/jobs", tokenRequired, s.listJobs},
		{"GET /v1/jobs/{jobId}", tokenRequired, s.getJob},
		{"PATCH /v1/jobs/{jobId}", tokenRequired, s.updateJob},
		{"POST /v1/jobs/{jobId}/cancel", tokenRequired, s.cancelJob},
		{"POST /v1/jobs/{jobId}/complete", tokenRequired, s.completeJob},
		{"POST /v1/jobs/{jobId}/applications", tokenRequired, s.applyToJob},
		{"GET /v1/jobs/{jobId}/applications", tokenRequired, s.listApplicationsForJob},
		{"POST /v1/jobs/{jobId}/applications/{applicationId}/withdraw", tokenRequired, s.withdrawApplication},
		{"POST /v1/jobs/{jobId}/booking", tokenRequired, s.bookNanny},
		{"POST /v1/jobs/{jobId}/reconcile", tokenRequired, s.reconcileJob},
		{"POST /v1/jobs/{jobId}/reviews", tokenRequired, s.leaveReview},
	}
}

// healthRoutes are the probes, outside the API and its authentication.
func (s *server) healthRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{"GET /healthz": s.healthz, "GET /readyz": s.readyz}
}

// routes returns the complete handler: the API under its middleware.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.apiRoutes() {
		mux.Handle(r.pattern, s.endpoint(r.required, r.h))
	}
	for pattern, h := range s.healthRoutes() {
		mux.HandleFunc(pattern, h)
	}
	return s.middleware(s.problemsForMux(mux))
}

// endpoint adapts a handler: it authenticates the caller first — so a
// request without a valid token is refused before its body is even read —,
// applies the caller's write limit, and turns a returned error into a
// problem response.
//
// Every API response depends on who asks (a profile shows its private
// fields to its owner, a 403 or 401 is about the token), so none may be
// stored by a shared cache: Cache-Control: private, no-store, errors
// included. Routes whose answer differs with and without a token also say
// Vary: Authorization, for caches that would otherwise key on the URL
// alone.
func (s *server) endpoint(required bool, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, no-store")
		if !required {
			w.Header().Add("Vary", "Authorization")
		}
		a, err := s.actor(r, required)
		if err == nil {
			err = s.limitWrites(r, a)
		}
		if err == nil {
			err = h(w, r, a)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

// limitWrites takes one write from the caller's allowance for a request
// that may change something. Reads are not limited; every write route
// needs a token, so the caller has a username.
func (s *server) limitWrites(r *http.Request, a babysitter.Actor) error {
	if s.writes == nil || a.Username == "" {
		return nil
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if wait, ok := s.writes.allow(a.Username); !ok {
		return &rateLimitedError{retryAfter: wait}
	}
	return nil
}

// actor authenticates the request's bearer token. Without a token the
// caller is anonymous, which only routes with an optional token accept; a
// token that is present must be valid everywhere, so a client with an
// expired token learns it even on a public route.
func (s *server) actor(r *http.Request, required bool) (babysitter.Actor, error) {
	token, present, err := bearerToken(r)
	if err != nil {
		return babysitter.Actor{}, err
	}
	if !present {
		if required {
			return babysitter.Actor{}, unauthenticated("this request needs an Authorization: Bearer token")
		}
		return babysitter.Actor{}, nil
	}
	return s.auth.authenticate(r.Context(), token)
}

// fail writes err as a problem and records it for the request log line.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	p.RequestID = requestID(r.Context())
	noteError(r.Context(), err)
	writeProblem(w, p)
}

// writeJSON writes v with status. It returns nil, so that a handler can
// end with return writeJSON(…): once the status is sent, a failed write
// only means the client left, and there is nothing left to report to it.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return nil
}

// pageRequest reads ?limit= and ?cursor=. The library bounds the limit; a
// value that is not a positive integer is refused here, where it is still
// known to have been given (the library reads 0 as "default").
func pageRequest(r *http.Request) (babysitter.PageRequest, error) {
	q := r.URL.Query()
	p := babysitter.PageRequest{Cursor: q.Get("cursor")}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 {
			return p, &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{
				Field: "limit", Message: "must be an integer between 1 and " + strconv.Itoa(babysitter.MaxLimit),
			}}}
		}
		p.Limit = n
	}
	return p, nil
}

// Users.

func (s *server) createUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.NewUser
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	u, err := s.svc.CreateUser(r.Context(), a, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+u.Username)
	return writeJSON(w, http.StatusCreated, u)
}

func (s *server) getUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	u, err := s.svc.GetUser(r.Context(), a, r.PathValue("username"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *server) updateUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var p babysitter.UserPatch
	if err := decodeJSON(w, r, &p, false); err != nil {
		return err
	}
	u, err := s.svc.UpdateUser(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

// statusRequest is the body of PUT /v1/users/{username}/status.
type statusRequest struct {
	Status babysitter.AccountStatus `json:"status"`
}

func (s *server) updateUserStatus(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in statusRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	u, err := s.svc.UpdateUserStatus(r.Context(), a, r.PathValue("username"), in.Status)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *server) deleteUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	if err := s.svc.DeleteUser(r.Context(), a, r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.svc.ListUsers(r.Context(), a, babysitter.UserType(r.URL.Query().Get("type")), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *server) listJobsByParent(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	res, err := s.svc.ListJobsByParent(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *server) listJobsAppliedTo(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	res, err := s.svc.ListJobsAppliedTo(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// Jobs.

func (s *server) createJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.JobDetails
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	j, err := s.svc.CreateJob(r.Context(), a, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/jobs/"+j.ID)
	return writeJSON(w, http.StatusCreated, j)
}

func (s *server) getJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	j, err := s.svc.GetJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (s *server) updateJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var p babysitter.JobPatch
	if err := decodeJSON(w, r, &p, false); err != nil {
		return err
	}
	j, err := s.svc.UpdateJob(r.Context(), a, r.PathValue("jobId"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (s *server) cancelJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	j, err := s.svc.CancelJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (s *server) completeJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	j, err := s.svc.CompleteJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

// listJobs is GET /v1/jobs: the jobs in one status (?status=), or the OPEN
// jobs near a point (?near=<lat>,<lon>&radiusKm=<r>), nearest first, each
// with its distanceKm. The two lists are different questions, so asking
// both at once is refused rather than one of them ignored.
func (s *server) listJobs(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	q := r.URL.Query()
	if !q.Has("near") {
		if q.Has("radiusKm") {
			return invalidQuery(babysitter.FieldError{Field: "radiusKm", Message: "is only for a near query: add near=<lat>,<lon>"})
		}
		return s.listJobsByStatus(w, r, a)
	}
	var fe []babysitter.FieldError
	if q.Has("status") {
		fe = append(fe, babysitter.FieldError{Field: "status", Message: "cannot be combined with near: a near query lists OPEN jobs"})
	}
	lat, lon, err := parseNear(q.Get("near"))
	if err != nil {
		fe = append(fe, babysitter.FieldError{Field: "near", Message: err.Error()})
	}
	// The library bounds the radius (at most babysitter.MaxRadiusKm).
	var radius float64
	if !q.Has("radiusKm") {
		fe = append(fe, babysitter.FieldError{Field: "radiusKm", Message: "is required with near"})
	} else if radius, err = strconv.ParseFloat(q.Get("radiusKm"), 64); err != nil || math.IsNaN(radius) || math.IsInf(radius, 0) {
		fe = append(fe, babysitter.FieldError{Field: "radiusKm", Message: "must be a number of kilometres"})
	}
	p, err := pageRequest(r)
	if err != nil {
		var ie *babysitter.InvalidInputError
		if errors.As(err, &ie) {
			fe = append(fe, ie.Fields...)
		}
	}
	if len(fe) > 0 {
		return invalidQuery(fe...)
	}
	page, err := s.svc.ListJobsNear(r.Context(), a, lat, lon, radius, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// parseNear parses the near parameter, "<latitude>,<longitude>" in decimal
// degrees. Its errors say what is wrong for the field "near".
func parseNear(v string) (lat, lon float64, err error) {
	bad := errors.New("must be <latitude>,<longitude> in decimal degrees, e.g. 52.52,13.405")
	latS, lonS, ok := strings.Cut(v, ",")
	if !ok {
		return 0, 0, bad
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(lonS), 64)
	if err1 != nil || err2 != nil {
		return 0, 0, bad
	}
	if math.IsNaN(lat) || lat < -90 || lat > 90 || math.IsNaN(lon) || lon < -180 || lon > 180 {
		return 0, 0, errors.New("latitude must be between -90 and 90, longitude between -180 and 180")
	}
	return lat, lon, nil
}

// invalidQuery is an invalid-input error about query parameters.
func invalidQuery(fe ...babysitter.FieldError) error {
	return &babysitter.InvalidInputError{Fields: fe}
}

func (s *server) listJobsByStatus(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.svc.ListJobsByStatus(r.Context(), a, babysitter.JobStatus(r.URL.Query().Get("status")), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// Reviews.

// leaveReview is POST /v1/jobs/{jobId}/reviews: the caller reviews the
// other party of a COMPLETED job (a parent the booked nanny, the nanny the
// parent). The answers are the questionnaire of that direction
// (babysitter.Questions).
func (s *server) leaveReview(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.NewReview
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	rv, err := s.svc.LeaveReview(r.Context(), a, r.PathValue("jobId"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+rv.Reviewee+"/reviews")
	return writeJSON(w, http.StatusCreated, rv)
}

// listReviews is GET /v1/users/{username}/reviews: public, newest first.
func (s *server) listReviews(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := s.svc.ListReviews(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// Applications and bookings.

func (s *server) applyToJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.NewApplication
	if err := decodeJSON(w, r, &in, true); err != nil {
		return err
	}
	app, err := s.svc.ApplyToJob(r.Context(), a, r.PathValue("jobId"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/jobs/"+app.JobID+"/applications")
	return writeJSON(w, http.StatusCreated, app)
}

func (s *server) withdrawApplication(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	app, err := s.svc.WithdrawApplication(r.Context(), a, r.PathValue("jobId"), r.PathValue("applicationId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, app)
}

func (s *server) listApplicationsForJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	res, err := s.svc.ListApplicationsForJob(r.Context(), a, r.PathValue("jobId"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// bookingRequest is the body of POST /v1/jobs/{jobId}/booking.
type bookingRequest struct {
	ApplicationID string `json:"applicationId"`
}

// bookNanny answers 200 with the booking once it committed — also when its
// decline message could not be sent ("declinesQueued": 0): the declines
// then follow from the booking's outbox entry (the sweeper).
func (s *server) bookNanny(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in bookingRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	b, err := s.svc.BookNanny(r.Context(), a, r.PathValue("jobId"), in.ApplicationID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// reconcileResponse is the body of POST /v1/jobs/{jobId}/reconcile.
type reconcileResponse struct {
	DeclinesQueued int `json:"declinesQueued"`
}

func (s *server) reconcileJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	n, err := s.svc.ReconcileJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, reconcileResponse{DeclinesQueued: n})
}

// Health.

// readinessProbeUser is the user the readiness check reads. Any answer of
// the store proves it reachable: NotFound, the usual one, as well as the
// user, should someone ever sign up under this name.
const readinessProbeUser = "readiness-probe"

// healthz is the liveness check: the process serves requests. With
// ?ready=1 it is the readiness check instead.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("ready") {
		s.readyz(w, r)
		return
	}
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is the readiness check: the store answers a cheap read, and the
// server is not shutting down. The queue is not probed: babysitter.Queue
// has no cheap read-only call, and a failed send is reported (503
// declines_not_queued) and recoverable anyway.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		s.fail(w, r, errDraining)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.svc.GetUser(ctx, babysitter.Actor{}, readinessProbeUser); err != nil && !errors.Is(err, babysitter.ErrNotFound) {
		s.fail(w, r, fmt.Errorf("%w: %w", errNotReady, err))
		return
	}
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
