// Package babysitter is the domain core of a nanny-booking marketplace:
// parents post jobs, nannies apply, a parent books one nanny in an atomic
// write and the other applicants are declined through a queue.
//
// A Service holds every operation. It validates input, authorizes the
// caller (an Actor taken from the transport) and runs on a Store and a
// Queue; a Decliner consumes the decline queue. The backends live in
// store/… and queue/…; store/memory and queue/memory are the embedded
// default, store/dynamodb and queue/sqs the production ones. This package
// imports no AWS code.
//
// # Who checks what
//
// Every check has one home, chosen by what it needs to know:
//
//   - The Service checks what needs no stored state: that the actor is
//     authenticated, that their role may call the operation at all (only a
//     parent books, only a nanny applies), that an operation on a named
//     user is the actor's own or an admin's (UpdateUser, DeleteUser, the
//     lists headed by a user), and the input. These fail before any I/O.
//   - The Store checks everything that depends on stored state, in the
//     same atomic write (or read) as the operation, by calling this
//     package's Check functions (rules.go): the acting account (Guard: it
//     exists, its type matches the role — a parent acts only through a
//     PARENT account, a nanny through a NANNY one — and its status allows
//     the operation), ownership (CheckJobManager: the job's parent or an
//     admin), the state of jobs and applications, the applicant of a
//     booking (CheckApplicant), uniqueness and versions. A check made in a
//     separate read before the write could be overtaken by a concurrent
//     change (a deactivation, a booking); inside the write it cannot.
//
// So a rule is written once, in this package, and every backend applies it
// with the same error.
//
// # Observability
//
// Traces and metrics use OpenTelemetry's API, and are off until Options
// (and DeclinerOptions) get a TracerProvider or a MeterProvider: off, a
// call costs a few dozen instructions and no allocation, and its context
// reaches the store and the queue as the caller gave it. The tracer and
// meter are named InstrumentationScope.
//
// Spans:
//
//   - one per Service operation, named after it ("BookNanny"), a child of
//     the caller's span, with babysitter.job.id and
//     babysitter.application.id where the call names them (CreateJob and
//     ApplyToJob add the ID they make) and babysitter.actor.role (admin,
//     parent, nanny, anonymous or none). A failure sets the status to
//     Error and error.type to ErrorType(err); only an internal error is
//     recorded in full, as an exception event.
//   - "DeclineJob" per job the Decliner declines, with babysitter.job.id,
//     babysitter.decline.source (queue or sweep) and
//     babysitter.declines.applied and .skipped. From messages it is a
//     consumer span linked to the span that sent each of them, read from
//     the message's attributes (DeclinerOptions.Propagator); its parent
//     is the consumer's own span when ctx has one (a Lambda
//     invocation's), else the sender's when one message brought the job
//     (a Poller), so the declines continue the booking's trace.
//   - "Sweep" per Decliner.Sweep (babysitter.sweep.due, .done), the
//     parent of the DeclineJob spans of the jobs it finishes.
//
// No span carries a username: though public in the marketplace, it names
// a person, and traces are kept and read for other purposes than the
// marketplace's (OpenTelemetry's conventions likewise leave user
// identifiers off by default). Nor does a span carry an email, a phone
// number, an address or a domain error's message, which may quote them.
//
// Metrics (counters unless said otherwise):
//
//   - babysitter.bookings {booking}: BookNanny calls that booked (a retry
//     of a booking already made is not counted);
//   - babysitter.booking.conflicts {conflict}: BookNanny calls refused
//     with ErrConflict;
//   - babysitter.operation.errors {error}: failed operations, by
//     babysitter.operation and error.type;
//   - babysitter.declines {application}: applications declined
//     (babysitter.decline.outcome=applied) or found changed before their
//     write (skipped), by babysitter.decline.source;
//   - babysitter.decline.lag (histogram, s): from a decline message's
//     Message.SentAt to the end of its job's declines;
//   - babysitter.decline.dead_lettered {message}: messages that failed at
//     their last delivery before the dead-letter queue
//     (DeclinerOptions.MaxReceiveCount), by error.type.
//
// Log lines: NewLogHandler adds the request ID of the context
// (WithRequestID, set by the transport) and the trace and span IDs of its
// span; the Service, the Decliner and the Poller log with their context
// through such a handler.
package babysitter

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Role is the caller's group, as the transport verified it (a Cognito group
// in Lambda, a JWT claim over HTTP).
type Role string

// The roles.
const (
	RoleAdmin  Role = "admin"
	RoleParent Role = "parent"
	RoleNanny  Role = "nanny"
)

// Actor is the caller of an operation. The zero Actor is anonymous.
type Actor struct {
	Username string
	Role     Role
	// Subject is the identity provider's own ID of the identity, which it
	// never gives to another (a Cognito user's sub), where a username may
	// be given to a new identity once its user is deleted there.
	// CreateUser binds the account to it (User.Subject), and from then on
	// only an actor with the same Subject acts through the account or sees
	// it as its owner. Empty when the caller's transport knows none.
	Subject string
}

// Anonymous reports whether the actor carries no identity.
func (a Actor) Anonymous() bool { return a.Username == "" }

// Options tune a Service. The zero value is ready for production use.
type Options struct {
	// Now returns the current time; default time.Now. Tests pin it.
	Now func() time.Time
	// NewID returns a new time-ordered ID; default UUIDv7.
	NewID func() string
	// Logger receives operational events (failed decline sends); default
	// slog.Default(). Its lines carry the request, trace and span IDs of
	// their context (NewLogHandler).
	Logger *slog.Logger
	// AllowUnverified lets UNVERIFIED nannies apply and UNVERIFIED parents
	// book. By default both need a VERIFIED account.
	AllowUnverified bool

	// Blobs stores the identity documents and profile pictures users
	// upload (blob/memory embedded, blob/s3 in production). Nil: the
	// upload operations (RequestUpload, ConfirmUpload, GetDocument) fail,
	// and no account has objects to delete.
	Blobs Blobs
	// PublicBaseURL is where the public prefix of Blobs is readable by
	// anyone (the bucket's picture prefix, a CDN, blob/memory's handler):
	// a profile picture's URL is PublicBaseURL followed by its key, e.g.
	// "https://bucket.s3.eu-west-1.amazonaws.com/" +
	// "public/pictures/<id>". Required for pictures.
	PublicBaseURL string
	// VerifyWithoutDocument lets an admin set an account VERIFIED without
	// naming one of its identity documents (UpdateUserStatus). By default
	// a VERIFIED decision is made on a document the user uploaded.
	VerifyWithoutDocument bool
	// TracerProvider, when set, makes a span per operation, named after
	// it ("BookNanny"), with the job and application IDs and the caller's
	// role (see the package documentation, "Observability"). Nil — or the
	// no-op provider of go.opentelemetry.io/otel/trace/noop — makes none
	// and costs nothing: the context reaches the store and the queue as
	// the caller gave it. The global provider (otel.GetTracerProvider) is
	// used only if passed here.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, receives the metrics: bookings, booking
	// conflicts and errors by operation and kind. Nil, or the no-op
	// provider, records none.
	MeterProvider metric.MeterProvider
	// Propagator writes the trace context of the call that sends a
	// decline message (BookNanny, CancelJob, ReconcileJob) into the
	// message's attributes, for the consumer's spans to link to; the
	// DeclinerOptions.Propagator of the consumer must read the same
	// format. Default propagation.TraceContext{}: W3C traceparent and
	// tracestate. For AWS X-Ray, use the X-Ray propagator
	// (go.opentelemetry.io/contrib/propagators/aws/xray, with its ID
	// generator on the SDK's TracerProvider), alone or beside the W3C one
	// in propagation.NewCompositeTextMapPropagator. A message carries two
	// attributes of its own; the propagator may add at most
	// MaxMessageAttributes-2.
	Propagator propagation.TextMapPropagator
}

// Service runs every domain operation. It is safe for concurrent use.
type Service struct {
	store Store
	queue Queue
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	tel   *telemetry
	// active is the Guard's status set for most operations; verified the
	// one for apply and book.
	active, verified []AccountStatus
	// blobs, publicBaseURL and verifyWithoutDocument are the Options';
	// eraser deletes a deleted account's objects (nil without blobs).
	blobs                 Blobs
	publicBaseURL         string
	verifyWithoutDocument bool
	eraser                *Eraser
}

// New returns a Service on the given store and queue.
func New(store Store, queue Queue, opts Options) *Service {
	s := &Service{
		store: store, queue: queue, now: opts.Now, newID: opts.NewID, log: withIDs(opts.Logger),
		tel: newTelemetry(opts.TracerProvider, opts.MeterProvider, opts.Propagator),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	s.blobs, s.publicBaseURL, s.verifyWithoutDocument = opts.Blobs, opts.PublicBaseURL, opts.VerifyWithoutDocument
	if s.blobs != nil {
		s.eraser = NewEraser(store, s.blobs, EraserOptions{Now: s.now, Logger: s.log})
	}
	s.active = []AccountStatus{StatusUnverified, StatusVerified}
	s.verified = []AccountStatus{StatusVerified}
	if opts.AllowUnverified {
		s.verified = s.active
	}
	return s
}

// authenticate rejects anonymous actors, and actors whose role is none of
// the three: an identity without a group (a Cognito user not yet in one)
// may read public data only.
func authenticate(a Actor) error {
	if a.Anonymous() {
		return ErrUnauthenticated
	}
	switch a.Role {
	case RoleAdmin, RoleParent, RoleNanny:
		return nil
	}
	return Errorf(ErrForbidden, "actor %q has no role (admin, parent or nanny)", a.Username)
}

// authorize rejects anonymous actors and actors whose role is not listed.
func authorize(a Actor, roles ...Role) error {
	if err := authenticate(a); err != nil {
		return err
	}
	for _, r := range roles {
		if a.Role == r {
			return nil
		}
	}
	return Errorf(ErrForbidden, "role %q may not do this", a.Role)
}

// authorizeSelf lets the user named username, or an admin, through.
func authorizeSelf(a Actor, username string) error {
	if err := authenticate(a); err != nil {
		return err
	}
	if a.Role == RoleAdmin || a.Username == username {
		return nil
	}
	return Errorf(ErrForbidden, "only %q or an admin may do this", username)
}

// guard is the Guard of an operation by a, whose account (unless a is an
// admin) must be in one of the statuses.
func guard(a Actor, statuses []AccountStatus) Guard {
	return Guard{Actor: a, Allow: statuses}
}

// validID accepts the IDs this package makes (UUIDs) and nothing that could
// smuggle a key delimiter.
func validID(field, id string) error {
	if len(id) == 0 || len(id) > 64 {
		return invalid(field, "must be 1 to 64 characters")
	}
	if !isID(id) {
		return invalid(field, "must contain only letters, digits, '-' and '_'")
	}
	return nil
}

// isID reports whether id is 1 to 64 letters, digits, '-' and '_': what
// validID accepts, without an error to build.
func isID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validUsernameArg(username string) error {
	if !ValidUsername(username) {
		return invalid("username", "must be 3 to 32 characters of a-z, 0-9, '_', '.', '-'")
	}
	return nil
}

// opErr prefixes err with the operation's name, keeping errors.Is/As intact.
func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
