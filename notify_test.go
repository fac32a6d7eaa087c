package babysitter

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestJobNotifications(t *testing.T) {
	booked := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	declined := booked.Add(time.Minute)
	app := func(id, nanny string, st ApplicationStatus, at time.Time) Application {
		return Application{ID: id, JobID: "j1", NannyUsername: nanny, Status: st, UpdatedOn: at}
	}
	apps := []Application{
		app("a1", "nina", ApplicationDeclined, declined),
		app("a2", "olga", ApplicationAccepted, booked),
		app("a3", "pia", ApplicationWithdrawn, booked),
		app("a4", "quinn", ApplicationPending, booked),
		app("a5", "rita", ApplicationDeclined, declined.Add(time.Second)),
		{ID: "x", JobID: "other", NannyUsername: "sam", Status: ApplicationDeclined, UpdatedOn: declined},
	}
	ref := func(id string) ApplicationRef { return ApplicationRef{JobID: "j1", ApplicationID: id} }
	closed := Job{ID: "j1", ParentUsername: "paula", Status: JobClosed, AcceptedApplicationID: "a2", AcceptedNanny: "olga"}
	wantClosed := []Notification{
		NewNotification(NotifyBooked, ref("a2"), "olga", booked),
		NewNotification(NotifyBookingConfirmed, ref("a2"), "paula", booked),
		NewNotification(NotifyDeclined, ref("a1"), "nina", declined),
		NewNotification(NotifyDeclined, ref("a5"), "rita", declined.Add(time.Second)),
	}
	completed := closed
	completed.Status = JobCompleted
	cancelled := Job{ID: "j1", ParentUsername: "paula", Status: JobCancelled}
	open := Job{ID: "j1", ParentUsername: "paula", Status: JobOpen}
	for _, tc := range []struct {
		name string
		job  Job
		apps []Application
		want []Notification
	}{
		{"booked", closed, apps, wantClosed},
		{"completed since", completed, apps, wantClosed},
		{"cancelled", cancelled, []Application{apps[0], apps[2], apps[3]}, []Notification{
			NewNotification(NotifyJobCancelled, ref("a1"), "nina", declined),
		}},
		{"still open", open, apps, nil},
		{"booked, no one else", closed, []Application{apps[1]}, wantClosed[:2]},
		{"accepted but not the job's accepted one", closed, []Application{app("a9", "tess", ApplicationAccepted, booked)}, nil},
	} {
		got := JobNotifications(tc.job, tc.apps)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
		if err := CheckNotifications(got); err != nil {
			t.Errorf("%s: JobNotifications made what CheckNotifications refuses: %v", tc.name, err)
		}
	}
	// The same state gives the same events: a redelivery republishes them
	// identically.
	if d := cmp.Diff(JobNotifications(closed, apps), JobNotifications(closed, apps)); d != "" {
		t.Errorf("not deterministic:\n%s", d)
	}
}

func TestNotificationID(t *testing.T) {
	n := NewNotification(NotifyDeclined, ApplicationRef{JobID: "j-1", ApplicationID: "a_2"}, "nina", time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	want := Notification{ID: "declined:j-1:a_2", Type: NotifyDeclined, Recipient: "nina", JobID: "j-1", ApplicationID: "a_2", At: time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)}
	if d := cmp.Diff(want, n); d != "" {
		t.Errorf("NewNotification (-want +got):\n%s", d)
	}
	// Types, job IDs and application IDs cannot contain ':', so distinct
	// events never share an ID.
	a := NotificationID(NotifyBooked, ApplicationRef{JobID: "a", ApplicationID: "b-c"})
	b := NotificationID(NotifyBooked, ApplicationRef{JobID: "a-b", ApplicationID: "c"})
	if a == b {
		t.Errorf("IDs collide: %q", a)
	}
}

func TestCheckNotifications(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	good := NewNotification(NotifyBooked, ApplicationRef{JobID: "j1", ApplicationID: "a1"}, "nina", at)
	other := NewNotification(NotifyBookingConfirmed, ApplicationRef{JobID: "j1", ApplicationID: "a1"}, "paula", at)
	for _, tc := range []struct {
		name string
		ns   []Notification
		want []string
	}{
		{"none", nil, nil},
		{"good", []Notification{good, other}, nil},
		{"unknown type", []Notification{{ID: "hired:j1:a1", Type: "hired", Recipient: "nina", JobID: "j1", ApplicationID: "a1", At: at}},
			[]string{"notifications[0].type"}},
		{"everything wrong", []Notification{good, {Type: "x", Recipient: "N!", JobID: "j:1", ApplicationID: "", ID: "x"}},
			[]string{"notifications[1].type", "notifications[1].recipient", "notifications[1].jobId", "notifications[1].applicationId", "notifications[1].at", "notifications[1].id"}},
		{"forged ID", []Notification{func() Notification { n := good; n.ID = "booked:j1:a2"; return n }()}, []string{"notifications[0].id"}},
		{"same event twice", []Notification{good, other, good}, []string{"notifications[2].id"}},
	} {
		if d := cmp.Diff(tc.want, fields(t, CheckNotifications(tc.ns))); d != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tc.name, d)
		}
	}
}
