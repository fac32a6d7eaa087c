package babysitter

import (
	"context"
	"fmt"
	"time"
)

// Notifier tells people what happened to them: a nanny that she is
// booked, the parent that the booking is confirmed, the other applicants
// that they were declined or that the job was cancelled. It is called by
// the decline consumer, never on a BookNanny caller's path.
//
// Delivery is at least once: a notification may arrive twice (a consumer
// redelivered, a batch retried), always with the same ID, so subscribers
// dedupe on it. How people are reached — email, SMS, push — is a matter of
// subscriptions to what a Notifier publishes, not of this package.
//
// notify/memory is the embedded default (it records and logs),
// notify/sns the production backend (one topic, a "type" message
// attribute to filter on), and notify/notifytest the conformance suite
// both pass.
type Notifier interface {
	// Notify publishes every notification at least once, batched as the
	// backend allows (SNS: 10 per request) and retrying only those that
	// failed. It checks them all first (CheckNotifications) and publishes
	// none if one is invalid. An error means some may not have been
	// published: calling again with the same notifications is safe.
	Notify(ctx context.Context, ns []Notification) error
}

// NotificationType says what happened. Subscribers filter on it (the SNS
// message attribute "type").
type NotificationType string

// The notification types, each named from its recipient's point of view.
const (
	// NotifyBooked tells a nanny her application was accepted.
	NotifyBooked NotificationType = "booked"
	// NotifyBookingConfirmed tells the parent the booking went through.
	NotifyBookingConfirmed NotificationType = "bookingConfirmed"
	// NotifyDeclined tells a nanny her application was declined because
	// another nanny was booked.
	NotifyDeclined NotificationType = "declined"
	// NotifyJobCancelled tells a nanny her application was declined
	// because the parent cancelled the job.
	NotifyJobCancelled NotificationType = "jobCancelled"
)

// NotificationVersion is the version of the notification format (the JSON
// body below and the message attributes), sent as the "version" attribute.
const NotificationVersion = "1"

// Valid reports whether t is one of the notification types.
func (t NotificationType) Valid() bool {
	switch t {
	case NotifyBooked, NotifyBookingConfirmed, NotifyDeclined, NotifyJobCancelled:
		return true
	}
	return false
}

// Notification is one event told to one person. Its JSON form is the
// published message body, a contract with subscribers of its own,
// independent of the API's names; notify/sns pins it with a golden test.
type Notification struct {
	// ID is the event ID subscribers dedupe on: NotificationID of the type
	// and the application, the same however often the event is published.
	ID   string           `json:"id"`
	Type NotificationType `json:"type"`
	// Recipient is the username of the person told. Resolve it through
	// the Service (GetUser: the contact details, ErrNotFound once the
	// account is deleted), never through the identity provider, which may
	// have given the username to someone else since.
	Recipient     string `json:"recipient"`
	JobID         string `json:"jobId"`
	ApplicationID string `json:"applicationId"`
	// At is when it happened (the application's update), not when it was
	// published, so a republished event is identical.
	At time.Time `json:"at"`
}

// NotificationID is the event ID of a notification of type t about the
// application ref: "type:jobId:applicationId". Every event this package
// publishes is about one application (the accepted one for a booking), and
// one type happens to one application at most once, so the ID is unique
// per event and deterministic.
func NotificationID(t NotificationType, ref ApplicationRef) string {
	return string(t) + ":" + ref.JobID + ":" + ref.ApplicationID
}

// NewNotification returns the notification of type t about the
// application ref, for recipient, with its ID.
func NewNotification(t NotificationType, ref ApplicationRef, recipient string, at time.Time) Notification {
	return Notification{
		ID:            NotificationID(t, ref),
		Type:          t,
		Recipient:     recipient,
		JobID:         ref.JobID,
		ApplicationID: ref.ApplicationID,
		At:            at.UTC(),
	}
}

// JobNotifications returns what to tell once a job has left OPEN, given
// its applications: for a booking, the accepted nanny (booked) and the
// parent (bookingConfirmed); for each DECLINED application, its nanny —
// declined, or jobCancelled when the job was cancelled. PENDING and
// WITHDRAWN applications get nothing; an OPEN job gets nothing.
//
// It depends only on stored state, so the decline consumer can call it
// after every delivery of a job's message — the first or a redelivery —
// and publish the same events with the same IDs and times.
func JobNotifications(j Job, apps []Application) []Notification {
	if j.Status == JobOpen {
		return nil
	}
	declined := NotifyDeclined
	if j.Status == JobCancelled {
		declined = NotifyJobCancelled
	}
	var booked, others []Notification
	for _, a := range apps {
		if a.JobID != j.ID {
			continue
		}
		ref := ApplicationRef{JobID: j.ID, ApplicationID: a.ID}
		switch {
		case a.Status == ApplicationAccepted && a.ID == j.AcceptedApplicationID:
			booked = append(booked,
				NewNotification(NotifyBooked, ref, a.NannyUsername, a.UpdatedOn),
				NewNotification(NotifyBookingConfirmed, ref, j.ParentUsername, a.UpdatedOn))
		case a.Status == ApplicationDeclined:
			others = append(others, NewNotification(declined, ref, a.NannyUsername, a.UpdatedOn))
		}
	}
	return append(booked, others...)
}

// CheckNotifications checks what a Notifier is given, every field of every
// notification at once (fields named "notifications[i].recipient" …): a
// known type, a valid recipient username, job and application IDs, a time,
// the ID NotificationID makes, and no ID twice in one call.
func CheckNotifications(ns []Notification) error {
	var fe fieldErrors
	seen := make(map[string]int, len(ns))
	for i, n := range ns {
		field := func(name string) string { return fmt.Sprintf("notifications[%d].%s", i, name) }
		if !n.Type.Valid() {
			fe.add(field("type"), "must be %s, %s, %s or %s", NotifyBooked, NotifyBookingConfirmed, NotifyDeclined, NotifyJobCancelled)
		}
		if !ValidUsername(n.Recipient) {
			fe.add(field("recipient"), "must be a username")
		}
		if err := validID(field("jobId"), n.JobID); err != nil {
			fe.addInvalid(err)
		}
		if err := validID(field("applicationId"), n.ApplicationID); err != nil {
			fe.addInvalid(err)
		}
		if n.At.IsZero() {
			fe.add(field("at"), "must be set")
		}
		if want := NotificationID(n.Type, ApplicationRef{JobID: n.JobID, ApplicationID: n.ApplicationID}); n.ID != want {
			fe.add(field("id"), "must be %q", want)
		} else if j, dup := seen[n.ID]; dup {
			fe.add(field("id"), "repeats notifications[%d]", j)
		} else {
			seen[n.ID] = i
		}
	}
	return fe.err()
}
