package sns_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/notify/notifytest"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
)

func TestConformance(t *testing.T) {
	snsClient, sqsClient := testenv.SNSClient(t), testenv.SQSClient(t)
	notifytest.Run(t, notifytest.Harness{
		New: func(t *testing.T) (babysitter.Notifier, notifytest.Observer) {
			topic := testenv.Topic(t, snsClient)
			return snsnotify.New(snsClient, topic, snsnotify.Options{}), testenv.Subscribe(t, snsClient, sqsClient, topic, true, "")
		},
	})
}

// TestFilterPolicies: subscribers filter on the type attribute — here a
// raw queue for the declines, an envelope queue for bookings, an
// unfiltered envelope queue for everything — and each gets exactly its
// notifications, once each.
func TestFilterPolicies(t *testing.T) {
	snsClient, sqsClient := testenv.SNSClient(t), testenv.SQSClient(t)
	topic := testenv.Topic(t, snsClient)
	declines := testenv.Subscribe(t, snsClient, sqsClient, topic, true, `{"type": ["declined", "jobCancelled"]}`)
	bookings := testenv.Subscribe(t, snsClient, sqsClient, topic, false, `{"type": ["booked"]}`)
	all := testenv.Subscribe(t, snsClient, sqsClient, topic, false, "")

	booking := notifytest.Booking("job-1", 9)     // booked, bookingConfirmed, 9 declined
	cancel := notifytest.Cancellation("job-2", 4) // 4 jobCancelled
	ns := append(slices.Clone(booking), cancel...)
	if err := snsnotify.New(snsClient, topic, snsnotify.Options{}).Notify(t.Context(), ns); err != nil {
		t.Fatalf("Notify(%d): %v", len(ns), err)
	}
	for _, tc := range []struct {
		name string
		sub  *testenv.Subscription
		want []babysitter.Notification
	}{
		{"declined or jobCancelled, raw", declines, append(slices.Clone(booking[2:]), cancel...)},
		{"booked, envelope", bookings, booking[:1]},
		{"everything, envelope", all, ns},
	} {
		counts := notifytest.ExactlyThese(t, tc.want, tc.sub.Published(t, len(tc.want)))
		for id, c := range counts {
			if c != 1 {
				t.Errorf("%s: %s delivered %d times, want once", tc.name, id, c)
			}
		}
	}
}

// TestGoldenBody pins the published message — body and attributes — which
// subscribers parse: renaming an API field must not change it.
func TestGoldenBody(t *testing.T) {
	snsClient, sqsClient := testenv.SNSClient(t), testenv.SQSClient(t)
	topic := testenv.Topic(t, snsClient)
	sub := testenv.Subscribe(t, snsClient, sqsClient, topic, true, "")
	n := babysitter.NewNotification(babysitter.NotifyDeclined, babysitter.ApplicationRef{JobID: "0196a1b2-job", ApplicationID: "0196a1b3-app"}, "nina",
		time.Date(2026, 5, 1, 10, 30, 0, 123000000, time.UTC))
	if err := snsnotify.New(snsClient, topic, snsnotify.Options{}).Notify(t.Context(), []babysitter.Notification{n}); err != nil {
		t.Fatal(err)
	}
	var msgs []testenv.Delivery
	for deadline := time.Now().Add(30 * time.Second); len(msgs) == 0 && time.Now().Before(deadline); {
		msgs = sub.Receive(t)
	}
	if len(msgs) != 1 {
		t.Fatalf("received %d messages, want 1", len(msgs))
	}
	const golden = `{"id":"declined:0196a1b2-job:0196a1b3-app","type":"declined","recipient":"nina","jobId":"0196a1b2-job","applicationId":"0196a1b3-app","at":"2026-05-01T10:30:00.123Z"}`
	if got := string(msgs[0].Body); got != golden {
		t.Errorf("body\n got %s\nwant %s", got, golden)
	}
	wantAttrs := map[string]string{"type": "declined", "eventId": "declined:0196a1b2-job:0196a1b3-app", "version": "1"}
	if d := cmp.Diff(wantAttrs, msgs[0].Attributes); d != "" {
		t.Errorf("attributes (-want +got):\n%s", d)
	}
}

// faultyAPI wraps the real client: it records the event IDs of every
// PublishBatch call, and makes chosen entries fail the way SNS reports a
// partial batch failure — the entry is taken out of the request (SNS
// never publishes it) and listed in Failed.
type faultyAPI struct {
	snsnotify.API
	mu     sync.Mutex
	calls  [][]string
	faults map[string]*fault // by event ID
}

type fault struct {
	left        int // failures still to inject; <0: always
	senderFault bool
}

func (f *faultyAPI) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	f.mu.Lock()
	var ids []string
	var keep []snstypes.PublishBatchRequestEntry
	var failed []snstypes.BatchResultErrorEntry
	for _, e := range in.PublishBatchRequestEntries {
		id := e.MessageAttributes[snsnotify.AttrEventID].StringValue
		ids = append(ids, *id)
		if r := f.faults[*id]; r != nil && r.left != 0 {
			r.left--
			code := "InternalError"
			if r.senderFault {
				code = "InvalidParameter"
			}
			failed = append(failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String(code), Message: aws.String("injected"), SenderFault: r.senderFault})
			continue
		}
		keep = append(keep, e)
	}
	f.calls = append(f.calls, ids)
	f.mu.Unlock()
	out := &sns.PublishBatchOutput{}
	if len(keep) > 0 {
		cp := *in
		cp.PublishBatchRequestEntries = keep
		var err error
		if out, err = f.API.PublishBatch(ctx, &cp, optFns...); err != nil {
			return nil, err
		}
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}

// TestBatchesAndRetries: 25 notifications take 3 PublishBatch calls of 10,
// 10 and 5; an entry SNS fails on its side is published again alone, and
// arrives once; a sender-fault entry is not retried; an entry failing
// every time stops after MaxAttempts; the error names exactly those two,
// and everything else arrives once.
func TestBatchesAndRetries(t *testing.T) {
	snsClient, sqsClient := testenv.SNSClient(t), testenv.SQSClient(t)
	topic := testenv.Topic(t, snsClient)
	sub := testenv.Subscribe(t, snsClient, sqsClient, topic, true, "")
	ns := notifytest.Booking("job-r", 23)
	flaky, bad, doomed := ns[3].ID, ns[12].ID, ns[21].ID
	api := &faultyAPI{API: snsClient, faults: map[string]*fault{
		flaky:  {left: 1},
		bad:    {left: -1, senderFault: true},
		doomed: {left: -1},
	}}
	err := snsnotify.New(api, topic, snsnotify.Options{MaxAttempts: 3}).Notify(t.Context(), ns)
	var pe *snsnotify.PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("Notify: %v; want a *PublishError", err)
	}
	wantFailed := []snsnotify.FailedEntry{
		{ID: bad, Code: "InvalidParameter", Message: "injected", SenderFault: true, Attempts: 1},
		{ID: doomed, Code: "InternalError", Message: "injected", Attempts: 3},
	}
	if d := cmp.Diff(wantFailed, pe.Failed); d != "" {
		t.Errorf("failed entries (-want +got):\n%s", d)
	}
	ids := func(from, to int) []string {
		var out []string
		for _, n := range ns[from:to] {
			out = append(out, n.ID)
		}
		return out
	}
	wantCalls := [][]string{ids(0, 10), {flaky}, ids(10, 20), ids(20, 25), {doomed}, {doomed}}
	if d := cmp.Diff(wantCalls, api.calls); d != "" {
		t.Errorf("PublishBatch calls (-want +got):\n%s", d)
	}
	var delivered []babysitter.Notification
	for _, n := range ns {
		if n.ID != bad && n.ID != doomed {
			delivered = append(delivered, n)
		}
	}
	for id, c := range notifytest.ExactlyThese(t, delivered, sub.Published(t, len(delivered))) {
		if c != 1 {
			t.Errorf("%s delivered %d times, want once", id, c)
		}
	}
}

// TestTopicNotFound: a missing topic is an error naming it.
func TestTopicNotFound(t *testing.T) {
	client := testenv.SNSClient(t)
	arn := "arn:aws:sns:us-east-1:000000000000:" + testenv.UniqueName(t, "missing")
	err := snsnotify.New(client, arn, snsnotify.Options{}).Notify(t.Context(), notifytest.Cancellation("j", 1))
	if err == nil || !strings.Contains(err.Error(), arn) {
		t.Errorf("Notify to a missing topic: %v; want an error naming it", err)
	}
}
