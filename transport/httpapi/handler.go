package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/ratelimit"
)

// DefaultRequestTimeout bounds the backend work of one request unless
// Options says otherwise. A server's WriteTimeout should be longer, so
// that a slow backend still yields a problem response rather than a cut
// connection.
const DefaultRequestTimeout = 20 * time.Second

// Default write limit of one caller, for servers that want one
// (Options.WritesPerMinute): a burst for a burst of clicks, then one
// write every two seconds. Far above what a person does, far below what
// a script probing for taken email addresses (PATCH … {"email"}) would
// need. The AppSync router has the same.
const (
	DefaultWritesPerMinute = ratelimit.DefaultPerMinute
	DefaultWriteBurst      = ratelimit.DefaultBurst
)

// Authenticator verifies a bearer token and returns the actor it names.
// A token it rejects is a babysitter.ErrUnauthenticated error (401); any
// other error means it cannot verify tokens right now (503), such as a
// key set that cannot be fetched. jwtauth.HS256 and jwtauth.Cognito are
// Authenticators.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (babysitter.Actor, error)
}

// Options configure a Handler. The zero value logs to slog.Default(),
// limits no writes and gives each request DefaultRequestTimeout.
type Options struct {
	// Logger receives one record per request; default slog.Default().
	Logger *slog.Logger
	// WritesPerMinute and WriteBurst limit each caller's writes (POST,
	// PUT, PATCH, DELETE), keyed by username: beyond them a write is 429
	// with Retry-After. 0 writes per minute is no limit; WriteBurst is
	// then ignored, else it must be at least 1.
	WritesPerMinute float64
	WriteBurst      int
	// RequestTimeout bounds the backend work of one request; default
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// Handler is the HTTP API of a babysitter.Service. It is safe for
// concurrent use.
type Handler struct {
	svc     *babysitter.Service
	auth    Authenticator
	log     *slog.Logger
	timeout time.Duration
	// writes limits each caller's writes; nil for no limit.
	writes *ratelimit.Writes
	// draining is set when a graceful stop begins, so /readyz tells load
	// balancers to send no more traffic while requests in flight finish.
	draining atomic.Bool
	mux      http.Handler
}

// New returns the HTTP API of svc, authenticating callers with auth. It
// panics if WritesPerMinute is set with a WriteBurst below 1, a
// programming error.
func New(svc *babysitter.Service, auth Authenticator, opts Options) *Handler {
	h := &Handler{svc: svc, auth: auth, log: opts.Logger, timeout: opts.RequestTimeout}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.log = slog.New(babysitter.NewLogHandler(h.log.Handler())) // request and trace IDs on each line
	if h.timeout <= 0 {
		h.timeout = DefaultRequestTimeout
	}
	if opts.WritesPerMinute > 0 {
		if opts.WriteBurst < 1 {
			panic("httpapi: Options.WriteBurst must be at least 1 with a write limit")
		}
		h.writes = ratelimit.New(opts.WritesPerMinute, opts.WriteBurst)
	}
	h.mux = h.routes()
	return h
}

// ServeHTTP serves the API, the health checks and the OpenAPI document.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Drain makes the readiness check answer 503 from now on: call it when a
// graceful stop begins, so that load balancers send no more traffic while
// the requests in flight finish.
func (h *Handler) Drain() { h.draining.Store(true) }

// handler is a route's handler: it gets the caller and returns an error
// instead of writing one, so that every failure goes through problemFor.
type handler func(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error

// Authentication requirements of a route.
const (
	tokenRequired = true
	tokenOptional = false
)

// Query parameters of the routes that take some.
var (
	pageQuery      = []string{"limit", "cursor"}
	listUsersQuery = []string{"type", "limit", "cursor"}
	listJobsQuery  = []string{"jobStatus", "latitude", "longitude", "radiusKm", "limit", "cursor"}
)

// apiRoute is one route of the API: its ServeMux pattern, whether it needs
// a token, the query parameters it reads (any other is refused), and its
// handler.
type apiRoute struct {
	pattern  string
	required bool
	query    []string
	h        handler
}

// apiRoutes is the route table. openapi.yaml describes the same routes
// (TestOpenAPIMatchesRoutes keeps the two in step).
func (h *Handler) apiRoutes() []apiRoute {
	return []apiRoute{
		{"POST /v1/users", tokenRequired, nil, h.createUser},
		{"GET /v1/users", tokenRequired, listUsersQuery, h.listUsers},
		{"GET /v1/users/{username}", tokenOptional, nil, h.getUser},
		{"PATCH /v1/users/{username}", tokenRequired, nil, h.updateUser},
		{"DELETE /v1/users/{username}", tokenRequired, nil, h.deleteUser},
		{"PUT /v1/users/{username}/status", tokenRequired, nil, h.updateUserStatus},
		{"POST /v1/users/{username}/uploads", tokenRequired, nil, h.requestUpload},
		{"POST /v1/users/{username}/uploads/{uploadId}/confirm", tokenRequired, nil, h.confirmUpload},
		{"GET /v1/users/{username}/documents/{uploadId}", tokenRequired, nil, h.getDocument},
		{"GET /v1/users/{username}/jobs", tokenRequired, pageQuery, h.listJobsByParent},
		{"GET /v1/users/{username}/applications", tokenRequired, pageQuery, h.listJobsAppliedTo},
		{"GET /v1/users/{username}/reviews", tokenOptional, pageQuery, h.listReviews},

		{"POST /v1/jobs", tokenRequired, nil, h.createJob},
		{"GET /v1/jobs", tokenRequired, listJobsQuery, h.listJobs},
		{"GET /v1/jobs/{jobId}", tokenRequired, nil, h.getJob},
		{"PATCH /v1/jobs/{jobId}", tokenRequired, nil, h.updateJob},
		{"POST /v1/jobs/{jobId}/cancel", tokenRequired, nil, h.cancelJob},
		{"POST /v1/jobs/{jobId}/complete", tokenRequired, nil, h.completeJob},
		{"POST /v1/jobs/{jobId}/applications", tokenRequired, nil, h.applyToJob},
		{"GET /v1/jobs/{jobId}/applications", tokenRequired, pageQuery, h.listApplicationsForJob},
		{"POST /v1/jobs/{jobId}/applications/{applicationId}/withdraw", tokenRequired, nil, h.withdrawApplication},
		{"POST /v1/jobs/{jobId}/booking", tokenRequired, nil, h.bookNanny},
		{"POST /v1/jobs/{jobId}/reconcile", tokenRequired, nil, h.reconcileJob},
		{"POST /v1/jobs/{jobId}/reviews", tokenRequired, nil, h.leaveReview},
	}
}

// publicRoutes are the probes and the API's description, outside the API
// and its authentication.
func (h *Handler) publicRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /healthz":      h.healthz,
		"GET /readyz":       h.readyz,
		"GET /openapi.yaml": serveOpenAPI,
	}
}

// routes returns the complete handler: the routes under the middleware.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range h.apiRoutes() {
		mux.Handle(r.pattern, h.endpoint(r))
	}
	for pattern, f := range h.publicRoutes() {
		mux.HandleFunc(pattern, f)
	}
	return h.middleware(h.problemsForMux(mux))
}

// endpoint adapts a route's handler: it authenticates the caller first —
// so a request without a valid token is refused before its body is even
// read —, checks the query parameters, applies the caller's write limit,
// and turns a returned error into a problem response.
//
// Every API response depends on who asks (a profile shows its private
// fields to its owner, a 403 or 401 is about the token), so none may be
// stored by a shared cache: Cache-Control: private, no-store, errors
// included. Routes whose answer differs with and without a token also say
// Vary: Authorization, for caches that would otherwise key on the URL
// alone.
func (h *Handler) endpoint(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, no-store")
		if !rt.required {
			w.Header().Add("Vary", "Authorization")
		}
		a, err := h.actor(r, rt.required)
		if err == nil {
			err = checkQuery(r, rt.query)
		}
		if err == nil {
			err = h.limitWrites(r, a)
		}
		if err == nil {
			err = rt.h(w, r, a)
		}
		if err != nil {
			h.fail(w, r, err)
		}
	})
}

// checkQuery refuses query parameters a route does not read, as the body
// decoder refuses unknown fields: a misspelt parameter is an error, not a
// default.
func checkQuery(r *http.Request, allowed []string) error {
	var fe []babysitter.FieldError
	for name := range r.URL.Query() {
		if !slices.Contains(allowed, name) {
			fe = append(fe, babysitter.FieldError{Field: name, Message: "unknown query parameter"})
		}
	}
	if len(fe) == 0 {
		return nil
	}
	slices.SortFunc(fe, func(a, b babysitter.FieldError) int { return cmp.Compare(a.Field, b.Field) })
	return invalidQuery(fe...)
}

// limitWrites takes one write from the caller's allowance for a request
// that may change something. Reads are not limited; every write route
// needs a token, so the caller has a username.
func (h *Handler) limitWrites(r *http.Request, a babysitter.Actor) error {
	if a.Username == "" {
		return nil
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if wait, ok := h.writes.Allow(a.Username); !ok {
		return &rateLimitedError{retryAfter: wait}
	}
	return nil
}

// actor authenticates the request's bearer token. Without a token the
// caller is anonymous, which only routes with an optional token accept; a
// token that is present must be valid everywhere, so a client with an
// expired token learns it even on a public route. An authenticator's
// error that is not about the token means it cannot verify any: 503.
func (h *Handler) actor(r *http.Request, required bool) (babysitter.Actor, error) {
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
	a, err := h.auth.Authenticate(r.Context(), token)
	if err != nil && !errors.Is(err, babysitter.ErrUnauthenticated) {
		return babysitter.Actor{}, fmt.Errorf("%w: %w", errAuthUnavailable, err)
	}
	return a, err
}

// fail writes err as a problem and records it for the request log line.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	p.RequestID = requestID(r.Context())
	noteError(r.Context(), err)
	writeProblem(w, p)
}

// writeJSON writes v with status. It returns nil, so that a handler can
// end with return writeJSON(…): once the status is sent, a failed write
// only means the client left, and there is nothing left to report to it.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Content-Type-Options", "nosniff")
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

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.NewUser
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	u, err := h.svc.CreateUser(r.Context(), a, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+u.Username)
	return writeJSON(w, http.StatusCreated, u)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	u, err := h.svc.GetUser(r.Context(), a, r.PathValue("username"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var p babysitter.UserPatch
	if err := decodeJSON(w, r, &p, false); err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

// updateUserStatus is PUT /v1/users/{username}/status: {status, uploadId}
// (babysitter.StatusChange), the uploadId naming the identity document a
// VERIFIED decision is made on.
func (h *Handler) updateUserStatus(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.StatusChange
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	u, err := h.svc.UpdateUserStatus(r.Context(), a, r.PathValue("username"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

// Uploads: identity documents and profile pictures go straight to object
// storage through a presigned PUT; these routes hand it out, record the
// upload, and hand admins a presigned GET of a document.

// requestUpload is POST /v1/users/{username}/uploads: {kind, contentType,
// contentLength} → 201 {upload, request}, the request a presigned PUT the
// client sends as is.
func (h *Handler) requestUpload(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.UploadRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	ticket, err := h.svc.RequestUpload(r.Context(), a, r.PathValue("username"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ticket)
}

// confirmUpload is POST /v1/users/{username}/uploads/{uploadId}/confirm,
// once the PUT is done: the account with the upload recorded.
func (h *Handler) confirmUpload(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	u, err := h.svc.ConfirmUpload(r.Context(), a, uploadRef(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

// getDocument is GET /v1/users/{username}/documents/{uploadId}, for
// admins: a presigned GET of the document, valid a few minutes.
func (h *Handler) getDocument(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	pr, err := h.svc.GetDocument(r.Context(), a, uploadRef(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

// uploadRef is the upload a route's path names.
func uploadRef(r *http.Request) babysitter.UploadRef {
	return babysitter.UploadRef{Username: r.PathValue("username"), UploadID: r.PathValue("uploadId")}
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	if err := h.svc.DeleteUser(r.Context(), a, r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := h.svc.ListUsers(r.Context(), a, babysitter.UserType(r.URL.Query().Get("type")), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (h *Handler) listJobsByParent(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	res, err := h.svc.ListJobsByParent(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (h *Handler) listJobsAppliedTo(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	res, err := h.svc.ListJobsAppliedTo(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// Jobs.

func (h *Handler) createJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.JobDetails
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	j, err := h.svc.CreateJob(r.Context(), a, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/jobs/"+j.ID)
	return writeJSON(w, http.StatusCreated, j)
}

func (h *Handler) getJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	j, err := h.svc.GetJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (h *Handler) updateJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var p babysitter.JobPatch
	if err := decodeJSON(w, r, &p, false); err != nil {
		return err
	}
	j, err := h.svc.UpdateJob(r.Context(), a, r.PathValue("jobId"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (h *Handler) cancelJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	j, err := h.svc.CancelJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

func (h *Handler) completeJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	j, err := h.svc.CompleteJob(r.Context(), a, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}

// listJobs is GET /v1/jobs: the jobs in one status (?jobStatus=), or the
// OPEN jobs near a point (?latitude=&longitude=&radiusKm=), nearest first,
// each with its distanceKm — the arguments of the GraphQL listAllJobs and
// listJobsNear. The two lists are different questions, so asking both at
// once is refused rather than one of them ignored.
func (h *Handler) listJobs(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	q := r.URL.Query()
	if !q.Has("latitude") && !q.Has("longitude") {
		if q.Has("radiusKm") {
			return invalidQuery(babysitter.FieldError{Field: "radiusKm", Message: "is only for a query near a point: add latitude and longitude"})
		}
		return h.listJobsByStatus(w, r, a)
	}
	var fe []babysitter.FieldError
	if q.Has("jobStatus") {
		fe = append(fe, babysitter.FieldError{Field: "jobStatus", Message: "cannot be combined with latitude and longitude: a query near a point lists OPEN jobs"})
	}
	// The library checks the ranges of the coordinates and the radius
	// (at most babysitter.MaxRadiusKm); here, that they are numbers.
	number := func(name, unit string) float64 {
		if !q.Has(name) {
			fe = append(fe, babysitter.FieldError{Field: name, Message: "is required for a query near a point"})
			return 0
		}
		v, err := strconv.ParseFloat(q.Get(name), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			fe = append(fe, babysitter.FieldError{Field: name, Message: "must be a number of " + unit})
		}
		return v
	}
	lat := number("latitude", "decimal degrees")
	lon := number("longitude", "decimal degrees")
	radius := number("radiusKm", "kilometres")
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
	page, err := h.svc.ListJobsNear(r.Context(), a, lat, lon, radius, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// invalidQuery is an invalid-input error about query parameters.
func invalidQuery(fe ...babysitter.FieldError) error {
	return &babysitter.InvalidInputError{Fields: fe}
}

func (h *Handler) listJobsByStatus(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := h.svc.ListJobsByStatus(r.Context(), a, babysitter.JobStatus(r.URL.Query().Get("jobStatus")), p)
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
func (h *Handler) leaveReview(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.NewReview
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	rv, err := h.svc.LeaveReview(r.Context(), a, r.PathValue("jobId"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/users/"+rv.Reviewee+"/reviews")
	return writeJSON(w, http.StatusCreated, rv)
}

// listReviews is GET /v1/users/{username}/reviews: public, newest first.
func (h *Handler) listReviews(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	page, err := h.svc.ListReviews(r.Context(), a, r.PathValue("username"), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// Applications and bookings.

func (h *Handler) applyToJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in babysitter.NewApplication
	if err := decodeJSON(w, r, &in, true); err != nil {
		return err
	}
	app, err := h.svc.ApplyToJob(r.Context(), a, r.PathValue("jobId"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/jobs/"+app.JobID+"/applications")
	return writeJSON(w, http.StatusCreated, app)
}

func (h *Handler) withdrawApplication(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	app, err := h.svc.WithdrawApplication(r.Context(), a, r.PathValue("jobId"), r.PathValue("applicationId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, app)
}

func (h *Handler) listApplicationsForJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	p, err := pageRequest(r)
	if err != nil {
		return err
	}
	res, err := h.svc.ListApplicationsForJob(r.Context(), a, r.PathValue("jobId"), p)
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
func (h *Handler) bookNanny(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	var in bookingRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	b, err := h.svc.BookNanny(r.Context(), a, r.PathValue("jobId"), in.ApplicationID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// ReconcileResult is the body of the answer to POST
// /v1/jobs/{jobId}/reconcile, as the GraphQL ReconcileResult: the job and
// how many decline messages the call queued.
type ReconcileResult struct {
	JobID          string `json:"jobId"`
	DeclinesQueued int    `json:"declinesQueued"`
}

func (h *Handler) reconcileJob(w http.ResponseWriter, r *http.Request, a babysitter.Actor) error {
	jobID := r.PathValue("jobId")
	n, err := h.svc.ReconcileJob(r.Context(), a, jobID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ReconcileResult{JobID: jobID, DeclinesQueued: n})
}

// Health.

// readinessProbeUser is the user the readiness check reads. Any answer of
// the store proves it reachable: NotFound, the usual one, as well as the
// user, should someone ever sign up under this name.
const readinessProbeUser = "readiness-probe"

// healthz is the liveness check: the process serves requests. With
// ?ready=1 it is the readiness check instead.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("ready") {
		h.readyz(w, r)
		return
	}
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is the readiness check: the store answers a cheap read, and the
// server is not shutting down. The queue is not probed: babysitter.Queue
// has no cheap read-only call, and a booking whose decline message could
// not be sent is answered as booked and declined by the sweeper anyway.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		h.fail(w, r, errDraining)
		return
	}
	// A probe is not the API's traffic: no span, no GetUser not_found.
	ctx, cancel := context.WithTimeout(babysitter.WithoutTelemetry(r.Context()), 2*time.Second)
	defer cancel()
	if _, err := h.svc.GetUser(ctx, babysitter.Actor{}, readinessProbeUser); err != nil && !errors.Is(err, babysitter.ErrNotFound) {
		h.fail(w, r, fmt.Errorf("%w: %w", errNotReady, err))
		return
	}
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
