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
	// DeclinesQueued is how many decline messages this call sent: 1, the
	// job's message, or 0 when it could not be sent — the declines then
	// follow from the booking's outbox entry (Decliner.Sweep).
	DeclinesQueued int `json:"declinesQueued"`
}

// The decline message: one per job that has left OPEN, "decline the
// PENDING applications of job J", with its type and version as message
// attributes so a consumer can refuse what it does not understand.
const (
	// DeclineMessageType is the "type" attribute of a decline message.
	DeclineMessageType = "babysitter.DeclineJob"
	// DeclineMessageVersion is the "version" attribute of a decline message.
	DeclineMessageVersion = "1"
)

// legacyDeclineType is the message of releases before the per-job one: one
// message per application, body {"jobId", "applicationId"}, version "1".
// Messages of that kind still on a deployed queue during an upgrade are
// handled as their job's message: the applications they name are among
// the job's PENDING ones.
const legacyDeclineType = "babysitter.DeclineApplication"

// declineBody is the JSON body of a decline message.
type declineBody struct {
	JobID string `json:"jobId"`
}

// legacyDeclineBody is the body of a legacyDeclineType message.
type legacyDeclineBody struct {
	JobID         string `json:"jobId"`
	ApplicationID string `json:"applicationId"`
}

// DeclineMessage returns the message that asks the consumer to decline the
// PENDING applications of a job that is no longer OPEN.
func DeclineMessage(jobID string) Message {
	body, _ := json.Marshal(declineBody{JobID: jobID}) // a string always marshals
	return Message{
		Body:       body,
		Attributes: map[string]string{"type": DeclineMessageType, "version": DeclineMessageVersion},
	}
}

// parseDecline validates a received decline message, of this release or
// the per-application one before it, and returns the job it is about.
func parseDecline(m Message) (jobID string, err error) {
	t, v := m.Attributes["type"], m.Attributes["version"]
	switch {
	case t == DeclineMessageType && v == DeclineMessageVersion:
		var b declineBody
		if err := decodeStrict(m.Body, &b); err != nil {
			return "", err
		}
		return b.JobID, validID("jobId", b.JobID)
	case t == legacyDeclineType && v == "1":
		var b legacyDeclineBody
		if err := decodeStrict(m.Body, &b); err != nil {
			return "", err
		}
		return b.JobID, validIDs("jobId", b.JobID, "applicationId", b.ApplicationID)
	case t == DeclineMessageType || t == legacyDeclineType:
		return "", fmt.Errorf("unsupported %s version %q", t, v)
	}
	return "", fmt.Errorf("unknown message type %q", t)
}

// decodeStrict decodes one JSON object with no unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad body: %w", err)
	}
	return nil
}

// BookNanny accepts one PENDING application of the calling parent's OPEN
// job and closes the job, in one atomic write, then sends the job's
// decline message: the other applications are declined asynchronously.
// By default the parent's account must be VERIFIED (Options.AllowUnverified)
// and the applicant's NANNY account too, both checked in the same write.
//
// Of concurrent bookings of one job exactly one succeeds; the others get
// ErrConflict. Retrying a booking that succeeded succeeds again and
// changes nothing (it sends the job's message again, which is harmless).
//
// A committed booking is reported as booked: the write also records that
// the job's declines are due (an outbox entry the store keeps), so when
// the message cannot be sent — or the process dies right after the
// commit — a Decliner's Sweep declines them without any client action.
// DeclinesQueued is 0 then.
func (s *Service) BookNanny(ctx context.Context, a Actor, jobID, applicationID string) (_ Booking, err error) {
	const op = "BookNanny"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID, application: applicationID})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent); err != nil {
		return Booking{}, opErr(op, err)
	}
	if err := validIDs("jobId", jobID, "applicationId", applicationID); err != nil {
		return Booking{}, opErr(op, err)
	}
	at := s.now()
	j, app, err := s.store.BookNanny(ctx, BookRequest{
		Guard:          guard(a, s.verified),
		ApplicationRef: ApplicationRef{JobID: jobID, ApplicationID: applicationID},
		Applicant:      s.verified,
		At:             at,
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			s.tel.add(ctx, s.tel.conflicts)
		}
		return Booking{}, opErr(op, err)
	}
	// A booking this call made is stamped with its time; a retry of one
	// already made returns the job as stored, stamped by the first call.
	if j.UpdatedOn.Equal(at) {
		s.tel.add(ctx, s.tel.bookings)
	}
	return Booking{Job: j, Application: app, DeclinesQueued: s.queueDeclines(ctx, op, jobID)}, nil
}

// ReconcileJob sends the decline message of a job that is no longer OPEN,
// for the job's parent or an admin, and returns how many messages it sent
// (1). Nothing needs it — a Decliner's Sweep finishes the declines of
// every closed or cancelled job whose message was lost — but it lets an
// operator hurry one job along, and it declines the PENDING applications
// of jobs closed before the outbox existed. Running it again is harmless.
func (s *Service) ReconcileJob(ctx context.Context, a Actor, jobID string) (_ int, err error) {
	const op = "ReconcileJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID})
	defer func() { end(err) }()
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
	if err := s.queue.Send(ctx, []Message{s.declineMessage(ctx, jobID)}); err != nil {
		return 0, opErr(op, fmt.Errorf("sending the decline message of job %s: %w", jobID, err))
	}
	return 1, nil
}

// declineMessage is DeclineMessage(jobID) with ctx's trace context in its
// attributes (Options.Propagator): the consumer links its spans to the
// call that sent it.
func (s *Service) declineMessage(ctx context.Context, jobID string) Message {
	m := DeclineMessage(jobID)
	s.tel.inject(ctx, &m)
	return m
}

// queueDeclines sends the decline message of a job that has just left
// OPEN and returns how many it sent. A failure is logged, not returned:
// the write that closed the job committed and recorded the declines as
// due, so they follow without the message (Decliner.Sweep).
func (s *Service) queueDeclines(ctx context.Context, op, jobID string) int {
	if err := s.queue.Send(ctx, []Message{s.declineMessage(ctx, jobID)}); err != nil {
		s.log.WarnContext(ctx, "the decline message was not sent; the sweeper will decline the job's applications",
			"op", op, "jobId", jobID, "err", err)
		return 0
	}
	return 1
}
