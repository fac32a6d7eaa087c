package babysitter

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// ReviewDirection says who reviews whom after a COMPLETED job.
type ReviewDirection string

// The two directions: the parent reviews the booked nanny, and that nanny
// reviews the parent.
const (
	ReviewOfNanny  ReviewDirection = "OF_NANNY"
	ReviewOfParent ReviewDirection = "OF_PARENT"
)

// Check reports a direction that is neither ReviewOfNanny nor
// ReviewOfParent as invalid input.
func (d ReviewDirection) Check() error {
	if d != ReviewOfNanny && d != ReviewOfParent {
		return invalid("direction", "must be %s or %s", ReviewOfNanny, ReviewOfParent)
	}
	return nil
}

// Questions returns the fixed questionnaire of a direction: yes/no
// questions every review of that direction answers.
func Questions(d ReviewDirection) []string {
	switch d {
	case ReviewOfNanny:
		return []string{"punctual", "wouldBookAgain", "followedInstructions"}
	case ReviewOfParent:
		return []string{"clearInstructions", "paidAsAgreed", "wouldWorkAgain"}
	}
	return nil
}

// MaxReviewText is the longest review text, in characters.
const MaxReviewText = 2000

// Review is one party's review of the other after a COMPLETED job. There is
// at most one per job per direction.
type Review struct {
	ID        string          `json:"id"`
	JobID     string          `json:"jobId"`
	Direction ReviewDirection `json:"direction"`
	Reviewer  string          `json:"reviewer"`
	Reviewee  string          `json:"reviewee"`
	Rating    int             `json:"rating"`
	Text      string          `json:"text,omitempty"`
	Answers   map[string]bool `json:"answers"`
	CreatedOn time.Time       `json:"createdOn"`
}

// NewReview is the input of LeaveReview.
type NewReview struct {
	Rating  int             `json:"rating"`
	Text    string          `json:"text,omitempty"`
	Answers map[string]bool `json:"answers"`
}

func (n NewReview) validate(d ReviewDirection) error {
	var fe fieldErrors
	if n.Rating < 1 || n.Rating > 5 {
		fe.add("rating", "must be between 1 and 5")
	}
	checkText(&fe, "text", n.Text, false, MaxReviewText)
	qs := Questions(d)
	for _, q := range qs {
		if _, ok := n.Answers[q]; !ok {
			fe.add("answers."+q, "is required")
		}
	}
	for k := range n.Answers {
		if !slices.Contains(qs, k) {
			fe.add("answers."+k, "is not a question of this review; the questions are %v", qs)
		}
	}
	return fe.err()
}

// MarshalJSON adds the average to the aggregate, so clients need not divide.
func (r Rating) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count   int64   `json:"count"`
		Sum     int64   `json:"sum"`
		Average float64 `json:"average"`
	}{r.Count, r.Sum, r.Average()})
}

// CompleteJob moves the calling parent's CLOSED job to COMPLETED, which
// opens it to reviews.
func (s *Service) CompleteJob(ctx context.Context, a Actor, jobID string) (_ Job, err error) {
	const op = "CompleteJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent); err != nil {
		return Job{}, opErr(op, err)
	}
	if err := validID("jobId", jobID); err != nil {
		return Job{}, opErr(op, err)
	}
	j, err := s.store.TransitionJob(ctx, guard(a, s.active), JobTransition{JobID: jobID, From: JobClosed, To: JobCompleted, At: s.now()})
	return j, opErr(op, err)
}

// LeaveReview records the caller's review of the other party of a
// COMPLETED job: the parent reviews the booked nanny, the nanny the parent.
// The review and the reviewee's rating aggregate change in one atomic write,
// so the aggregate never drifts; a second review in the same direction is
// an *AlreadyExistsError on FieldReview.
func (s *Service) LeaveReview(ctx context.Context, a Actor, jobID string, in NewReview) (_ Review, err error) {
	const op = "LeaveReview"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent, RoleNanny); err != nil {
		return Review{}, opErr(op, err)
	}
	d := ReviewOfNanny
	if a.Role == RoleNanny {
		d = ReviewOfParent
	}
	if err := validID("jobId", jobID); err != nil {
		return Review{}, opErr(op, err)
	}
	if err := in.validate(d); err != nil {
		return Review{}, opErr(op, err)
	}
	g := guard(a, s.active)
	j, err := s.store.GetJob(ctx, g, jobID)
	if err != nil {
		return Review{}, opErr(op, err)
	}
	r := Review{
		ID:        s.newID(),
		JobID:     jobID,
		Direction: d,
		Reviewer:  a.Username,
		Reviewee:  Counterpart(j, d),
		Rating:    in.Rating,
		Text:      in.Text,
		Answers:   in.Answers,
		CreatedOn: s.now(),
	}
	// The read finds the reviewee; the parties never change once a job is
	// CLOSED. The store decides CheckReview again inside its write (the
	// status may change meanwhile); deciding it here too only stops a
	// write with no reviewee early.
	if err := CheckReview(&j, r); err != nil {
		return Review{}, opErr(op, err)
	}
	if err := s.store.CreateReview(ctx, g, r); err != nil {
		return Review{}, opErr(op, err)
	}
	return r, nil
}

// ListReviews lists the reviews of a user, newest first. Reviews are public.
func (s *Service) ListReviews(ctx context.Context, a Actor, username string, p PageRequest) (_ Page[Review], err error) {
	const op = "ListReviews"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := validUsernameArg(username); err != nil {
		return Page[Review]{}, opErr(op, err)
	}
	p, err = p.normalize()
	if err != nil {
		return Page[Review]{}, opErr(op, err)
	}
	page, err := s.store.ListReviews(ctx, username, p)
	return page, opErr(op, err)
}
