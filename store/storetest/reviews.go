package storetest

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/babysitter-go/babysitter"
)

var reviewCases = []testCase{
	{"BothDirectionsAndAggregate", testReviewBothDirections},
	{"Refused", testReviewRefused},
	{"ListNewestFirst", testListReviews},
	{"ConcurrentReviewsExactAggregate", testConcurrentReviews},
	{"SelfReviewRefused", testReviewSelf},
}

// completedJob books nanny on a new job of parent and completes it.
func (w *world) completedJob(parent, nanny babysitter.Actor) babysitter.Job {
	w.t.Helper()
	ctx := w.t.Context()
	j := w.job(parent)
	app := w.apply(j.ID, []babysitter.Actor{nanny})[0]
	if _, err := w.svc.BookNanny(ctx, parent, j.ID, app.ID); err != nil {
		w.t.Fatalf("BookNanny: %v", err)
	}
	done, err := w.svc.CompleteJob(ctx, parent, j.ID)
	if err != nil {
		w.t.Fatalf("CompleteJob: %v", err)
	}
	if done.Status != babysitter.JobCompleted || done.AcceptedNanny != nanny.Username {
		w.t.Fatalf("completed job = %s with nanny %q", done.Status, done.AcceptedNanny)
	}
	return done
}

func ofNanny(rating int) babysitter.NewReview {
	return babysitter.NewReview{Rating: rating, Text: "Great with the kids",
		Answers: map[string]bool{"punctual": true, "wouldBookAgain": true, "followedInstructions": rating > 2}}
}

func ofParent(rating int) babysitter.NewReview {
	return babysitter.NewReview{Rating: rating,
		Answers: map[string]bool{"clearInstructions": true, "paidAsAgreed": true, "wouldWorkAgain": false}}
}

func (w *world) rating(username string) babysitter.Rating {
	w.t.Helper()
	u, err := w.svc.GetUser(w.t.Context(), babysitter.Actor{}, username)
	if err != nil {
		w.t.Fatalf("GetUser: %v", err)
	}
	return u.Rating
}

func testReviewBothDirections(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	parent, nanny := w.account(babysitter.RoleParent), w.account(babysitter.RoleNanny)
	j := w.completedJob(parent, nanny)
	r1, err := w.svc.LeaveReview(t.Context(), parent, j.ID, ofNanny(4))
	if err != nil {
		t.Fatalf("parent reviews nanny: %v", err)
	}
	if r1.Direction != babysitter.ReviewOfNanny || r1.Reviewee != nanny.Username || r1.Reviewer != parent.Username {
		t.Errorf("review = %+v", r1)
	}
	if _, err := w.svc.LeaveReview(t.Context(), nanny, j.ID, ofParent(5)); err != nil {
		t.Fatalf("nanny reviews parent: %v", err)
	}
	check(t, "nanny's rating", babysitter.Rating{Count: 1, Sum: 4}, w.rating(nanny.Username))
	check(t, "parent's rating", babysitter.Rating{Count: 1, Sum: 5}, w.rating(parent.Username))
	page, err := w.svc.ListReviews(t.Context(), babysitter.Actor{}, nanny.Username, babysitter.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "nanny's reviews", []babysitter.Review{r1}, page.Items)
}

func testReviewRefused(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent, nanny, other := w.account(babysitter.RoleParent), w.account(babysitter.RoleNanny), w.account(babysitter.RoleNanny)
	otherParent := w.account(babysitter.RoleParent)
	j := w.completedJob(parent, nanny)

	open := w.job(parent)
	closed := w.job(parent)
	app := w.apply(closed.ID, []babysitter.Actor{nanny})[0]
	if _, err := w.svc.BookNanny(ctx, parent, closed.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		actor babysitter.Actor
		job   string
		in    babysitter.NewReview
		kind  error
	}{
		{"job still OPEN", parent, open.ID, ofNanny(3), babysitter.ErrConflict},
		{"job CLOSED, not completed", parent, closed.ID, ofNanny(3), babysitter.ErrConflict},
		{"a nanny who was not booked", other, j.ID, ofParent(3), babysitter.ErrForbidden},
		{"another parent", otherParent, j.ID, ofNanny(3), babysitter.ErrForbidden},
		{"unknown job", parent, newID(), ofNanny(3), babysitter.ErrNotFound},
		{"rating 0", parent, j.ID, ofNanny(0), babysitter.ErrInvalidInput},
		{"the other side's questions", parent, j.ID, ofParent(3), babysitter.ErrInvalidInput},
		{"an admin", svcAdmin, j.ID, ofNanny(3), babysitter.ErrForbidden},
	} {
		if _, err := w.svc.LeaveReview(ctx, tt.actor, tt.job, tt.in); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	check(t, "nanny's rating after refusals", babysitter.Rating{}, w.rating(nanny.Username))
	if _, err := w.svc.LeaveReview(ctx, parent, j.ID, ofNanny(2)); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.LeaveReview(ctx, parent, j.ID, ofNanny(5))
	if !isExists(err, babysitter.FieldReview) {
		t.Errorf("second review: %v, want AlreadyExists on review", err)
	}
	check(t, "nanny's rating after the duplicate", babysitter.Rating{Count: 1, Sum: 2}, w.rating(nanny.Username))
}

func testListReviews(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	nanny := w.account(babysitter.RoleNanny)
	var want []babysitter.Review
	for range 5 {
		parent := w.account(babysitter.RoleParent)
		j := w.completedJob(parent, nanny)
		r, err := w.svc.LeaveReview(t.Context(), parent, j.ID, ofNanny(3))
		if err != nil {
			t.Fatal(err)
		}
		want = append([]babysitter.Review{r}, want...) // newest first
	}
	var got []babysitter.Review
	p := babysitter.PageRequest{Limit: 2}
	for pages := 0; ; pages++ {
		page, err := w.svc.ListReviews(t.Context(), babysitter.Actor{}, nanny.Username, p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items...)
		if page.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		p.Cursor = page.NextCursor
	}
	check(t, "reviews, all pages", want, got)
}

// testConcurrentReviews: 50 reviews of one nanny from 50 different completed
// jobs, in parallel: the aggregate must be exactly their count and sum.
func testConcurrentReviews(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	n := scale(50, 10)
	nanny := w.account(babysitter.RoleNanny)
	parents := w.accounts(babysitter.RoleParent, n)
	jobs := make([]babysitter.Job, n)
	for i, p := range parents {
		jobs[i] = w.completedJob(p, nanny)
	}
	ratings := make([]int, n)
	var sum int64
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range ratings {
		ratings[i] = 1 + r.IntN(5)
		sum += int64(ratings[i])
	}
	for i, err := range race(n, func(i int) error {
		_, err := w.svc.LeaveReview(t.Context(), parents[i], jobs[i].ID, ofNanny(ratings[i]))
		return err
	}) {
		if err != nil {
			t.Errorf("review %d: %v", i, err)
		}
	}
	got := w.rating(nanny.Username)
	check(t, "aggregate", babysitter.Rating{Count: int64(n), Sum: sum}, got)
	if want := float64(sum) / float64(n); got.Average() != want {
		t.Errorf("average = %v, want %v", got.Average(), want)
	}
}

// testReviewSelf: no one reviews themselves — decided by the store,
// whatever the Guard — and a refused review leaves the aggregates and the
// lists as they were.
func testReviewSelf(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	c, _ := f.completed(p.Username, n.Username)
	for _, tc := range []struct {
		name string
		g    babysitter.Guard
		r    babysitter.Review
	}{
		{"the parent reviews herself as the nanny", asParent(p.Username), review(c.ID, babysitter.ReviewOfNanny, p.Username, p.Username, 5)},
		{"the parent reviews herself as the parent", asParent(p.Username), review(c.ID, babysitter.ReviewOfParent, p.Username, p.Username, 5)},
		{"the nanny reviews herself as the parent", asNanny(n.Username), review(c.ID, babysitter.ReviewOfParent, n.Username, n.Username, 5)},
		{"the nanny reviews herself as the nanny", asNanny(n.Username), review(c.ID, babysitter.ReviewOfNanny, n.Username, n.Username, 5)},
		{"an admin files the parent's self-review", asAdmin, review(c.ID, babysitter.ReviewOfNanny, p.Username, p.Username, 5)},
	} {
		wantErr(t, "CreateReview: "+tc.name, s.CreateReview(f.ctx, tc.g, tc.r), babysitter.ErrForbidden)
	}
	pu, nu := f.getUser(p.Username), f.getUser(n.Username)
	check(t, "the parent's rating", babysitter.Rating{}, pu.Rating)
	check(t, "the nanny's rating", babysitter.Rating{}, nu.Rating)
	for _, u := range []string{p.Username, n.Username} {
		page, err := s.ListReviews(f.ctx, u, babysitter.PageRequest{Limit: 5})
		if err != nil {
			t.Fatalf("ListReviews %s: %v", u, err)
		}
		check(t, "reviews of "+u, []babysitter.Review(nil), page.Items)
	}

	// The two real reviews go ahead.
	if err := s.CreateReview(f.ctx, asParent(p.Username), review(c.ID, babysitter.ReviewOfNanny, p.Username, n.Username, 4)); err != nil {
		t.Fatalf("CreateReview of the nanny: %v", err)
	}
	if err := s.CreateReview(f.ctx, asNanny(n.Username), review(c.ID, babysitter.ReviewOfParent, n.Username, p.Username, 2)); err != nil {
		t.Fatalf("CreateReview of the parent: %v", err)
	}
	check(t, "the parent's rating after the reviews", babysitter.Rating{Count: 1, Sum: 2}, f.getUser(p.Username).Rating)
	check(t, "the nanny's rating after the reviews", babysitter.Rating{Count: 1, Sum: 4}, f.getUser(n.Username).Rating)
}
