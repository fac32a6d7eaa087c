package babysitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Booking is the result of BookNanny.
type Booking struct {
	Job         Job         `json:"job"`
	Application Application `json:"application"`
	// DeclinesQueued is how many decline messages this call sent for the
	// job's other PENDING applications.
	DeclinesQueued int `json:"declinesQueued"`
}

// The decline message: one per application to decline, with its type and
// version as message attributes so a consumer can refuse what it does not
// understand.
const (
	// DeclineMessageType is the "type" attribute of a decline message.
	DeclineMessageType = "babysitter.DeclineApplication"
	// DeclineMessageVersion is the "version" attribute of a decline message.
	DeclineMessageVersion = "1"
)

// declineBody is the JSON body of a decline message.
type declineBody struct {
	JobID         string `json:"jobId"`
	ApplicationID string `json:"applicationId"`
}

// DeclineMessage returns the message that asks the consumer to decline one
// application of a job that is no longer OPEN.
func DeclineMessage(jobID, applicationID string) Message {
	body, _ := json.Marshal(declineBody{JobID: jobID, ApplicationID: applicationID}) // two strings always marshal
	return Message{
		Body:       body,
		Attributes: map[string]string{"type": DeclineMessageType, "version": DeclineMessageVersion},
	}
}

// parseDecline validates a received decline message.
func parseDecline(m Message) (declineBody, error) {
	if t := m.Attributes["type"]; t != DeclineMessageType {
		return declineBody{}, fmt.Errorf("unknown message type %q", t)
	}
	if v := m.Attributes["version"]; v != DeclineMessageVersion {
		return declineBody{}, fmt.Errorf("unsupported %s version %q", DeclineMessageType, v)
	}
	var b declineBody
	dec := json.NewDecoder(bytes.NewReader(m.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return declineBody{}, fmt.Errorf("bad body: %w", err)
	}
	if err := validIDs("jobId", b.JobID, "applicationId", b.ApplicationID); err != nil {
		return declineBody{}, err
	}
	return b, nil
}

// BookNanny accepts one PENDING application of the calling parent's OPEN
// job and closes the job, in one atomic write, then queues the decline of
// every other PENDING application. By default the parent's account must be
// VERIFIED (Options.AllowUnverified), checked in the same write.
//
// Of concurrent bookings of one job exactly one succeeds; the others get
// ErrConflict. Retrying a booking that succeeded succeeds again and changes
// nothing — except that it queues the declines again for applications that
// are still PENDING. That is the recovery when queueing failed after the
// write committed (the error then says so): retry BookNanny, or call
// ReconcileJob.
func (s *Service) BookNanny(ctx context.Context, a Actor, jobID, applicationID string) (Booking, error) {
	const op = "BookNanny"
	if err := authorize(a, RoleParent); err != nil {
		return Booking{}, opErr(op, err)
	}
	if err := validIDs("jobId", jobID, "applicationId", applicationID); err != nil {
		return Booking{}, opErr(op, err)
	}
	j, app, err := s.store.BookNanny(ctx, BookRequest{
		Guard:          guard(a, s.verified),
		ApplicationRef: ApplicationRef{JobID: jobID, ApplicationID: applicationID},
		Applicant:      s.verified,
		At:             s.now(),
	})
	if err != nil {
		return Booking{}, opErr(op, err)
	}
	b := Booking{Job: j, Application: app}
	b.DeclinesQueued, err = s.queueDeclines(ctx, jobID)
	return b, opErr(op, err)
}

// ReconcileJob queues the decline of every PENDING application of a job
// that is no longer OPEN, for the job's parent or an admin, and returns how
// many it queued. It finishes what a BookNanny or CancelJob left undone when
// queueing failed after their write; running it again is harmless.
func (s *Service) ReconcileJob(ctx context.Context, a Actor, jobID string) (int, error) {
	const op = "ReconcileJob"
	if err := authorize(a, RoleParent, RoleAdmin); err != nil {
		return 0, opErr(op, err)
	}
	if err := validID("jobId", jobID); err != nil {
		return 0, opErr(op, err)
	}
	g := guard(a, s.active)
	j, err := s.store.GetJob(ctx, g, jobID)
	if err != nil {
		return 0, opErr(op, err)
	}
	if err := CheckJobManager(g, j); err != nil {
		return 0, opErr(op, err)
	}
	if err := CheckDecline(jobID, &j); err != nil {
		return 0, opErr(op, err)
	}
	n, err := s.queueDeclines(ctx, jobID)
	return n, opErr(op, err)
}

// ErrDeclinesNotQueued marks a BookNanny or CancelJob whose write committed
// but whose decline messages could not all be sent. It matches none of the
// domain kinds: the operation succeeded; retry it (or ReconcileJob) to
// finish the declines.
var ErrDeclinesNotQueued = errors.New("the write committed but the declines were not queued; retry to finish them")

// queueDeclines sends one decline message per PENDING application of a job
// that has left OPEN. The read is strongly consistent and comes after the
// job left OPEN, so it sees every application that can ever be PENDING:
// none can be added to a job that is not OPEN.
func (s *Service) queueDeclines(ctx context.Context, jobID string) (int, error) {
	pending, err := s.store.PendingApplications(ctx, jobID)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrDeclinesNotQueued, err)
	}
	if len(pending) == 0 {
		return 0, nil
	}
	msgs := make([]Message, len(pending))
	for i, app := range pending {
		msgs[i] = DeclineMessage(jobID, app.ID)
	}
	if err := s.queue.Send(ctx, msgs); err != nil {
		s.log.ErrorContext(ctx, "queueing declines failed", "jobId", jobID, "applications", len(msgs), "err", err)
		return 0, fmt.Errorf("%w: %w", ErrDeclinesNotQueued, err)
	}
	return len(msgs), nil
}
