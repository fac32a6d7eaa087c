package babysitter_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// The examples below share the setting that Example_embedding builds
// step by step: a Service on the in-memory backends, and a job that alice,
// a parent, posted and the nannies bob and carol applied to.

// newService returns a Service on an empty memory store and q. Its clock
// is pinned, so that what an example prints is the same on every run.
// Admins verify accounts without identity documents here; the examples of
// RequestUpload and UpdateUserStatus verify on one, as by default.
func newService(q babysitter.Queue) (*babysitter.Service, *smemory.Store) {
	store := smemory.New()
	return babysitter.New(store, q, babysitter.Options{
		Now:                   func() time.Time { return time.Date(2030, time.May, 20, 12, 0, 0, 0, time.UTC) },
		Logger:                slog.New(slog.DiscardHandler), // the examples print what matters
		VerifyWithoutDocument: true,
	}), store
}

// must stops an example at an error it does not expect; the refusals the
// examples show are checked where they happen.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// newUser is the sign-up input of the actor's account: PARENT for a
// parent, NANNY for a nanny.
func newUser(a babysitter.Actor) babysitter.NewUser {
	kind := babysitter.UserNanny
	if a.Role == babysitter.RoleParent {
		kind = babysitter.UserParent
	}
	return babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: kind,
		Profile: babysitter.Profile{FirstName: a.Username, LastName: "Smith",
			DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}}}
}

// join creates the account of a new user in the role and has an admin
// verify it, and returns the user as an Actor.
func join(ctx context.Context, svc *babysitter.Service, username string, role babysitter.Role) babysitter.Actor {
	a := babysitter.Actor{Username: username, Role: role}
	must(svc.CreateUser(ctx, a, newUser(a)))
	admin := babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}
	must(svc.UpdateUserStatus(ctx, admin, username, babysitter.StatusChange{Status: babysitter.StatusVerified}))
	return a
}

// evening is a babysitting job: two kids, 18:00 to 23:00, 60 euros.
func evening() babysitter.JobDetails {
	day := babysitter.Date{Year: 2030, Month: time.June, Day: 1}
	return babysitter.JobDetails{JobType: babysitter.JobBabysitting, NumberOfKids: 2,
		StartDate: day, StartTime: 18 * 60, EndDate: day, EndTime: 23 * 60,
		Address: "1 Main Street", City: "Berlin", Latitude: 52.52, Longitude: 13.405,
		Cost: babysitter.Money{Amount: 6000, Currency: "EUR"}}
}

// story is the job of the examples: alice, a parent, posted it, and the
// nannies bob and carol applied (bobs and carols are their applications).
type story struct {
	alice, bob, carol babysitter.Actor
	job               babysitter.Job
	bobs, carols      babysitter.Application
}

// newStory signs the three up, verified, and posts and applies to the job.
func newStory(ctx context.Context, svc *babysitter.Service) story {
	s := story{
		alice: join(ctx, svc, "alice", babysitter.RoleParent),
		bob:   join(ctx, svc, "bob", babysitter.RoleNanny),
		carol: join(ctx, svc, "carol", babysitter.RoleNanny),
	}
	s.job = must(svc.CreateJob(ctx, s.alice, evening()))
	s.bobs = must(svc.ApplyToJob(ctx, s.bob, s.job.ID, babysitter.NewApplication{}))
	s.carols = must(svc.ApplyToJob(ctx, s.carol, s.job.ID, babysitter.NewApplication{}))
	return s
}

// printApplications prints where each application to the story's job
// stands, newest first.
func printApplications(ctx context.Context, svc *babysitter.Service, s story) {
	apps := must(svc.ListApplicationsForJob(ctx, s.alice, s.job.ID, babysitter.PageRequest{}))
	for _, app := range apps.Applications.Items {
		fmt.Println(app.NannyUsername, app.Status)
	}
}

// yes answers every question of a review's questionnaire with yes.
func yes(d babysitter.ReviewDirection) map[string]bool {
	answers := map[string]bool{}
	for _, q := range babysitter.Questions(d) {
		answers[q] = true
	}
	return answers
}

// lostQueue is a decline queue that is down: every Send fails, as when
// the process dies right after a booking's write.
type lostQueue struct{}

func (lostQueue) Send(context.Context, []babysitter.Message) error {
	return errors.New("queue unavailable")
}

// A user creates their own account, whose type matches their role. The
// email is kept in lower case, and the age is derived from the birth date.
func ExampleService_CreateUser() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))

	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent} // from the caller's token
	u, err := svc.CreateUser(ctx, alice, babysitter.NewUser{
		Username: "alice",
		Email:    "Alice@Example.com",
		Type:     babysitter.UserParent,
		Profile: babysitter.Profile{
			FirstName:   "Alice",
			LastName:    "Smith",
			DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1},
			About:       "Two kids, one dog.",
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Username, u.Email, u.Type, u.Status)
	fmt.Println("age on the first of June 2030:", u.Age(time.Date(2030, time.June, 1, 0, 0, 0, 0, time.UTC)))

	// Nobody creates an account for someone else.
	_, err = svc.CreateUser(ctx, alice, newUser(babysitter.Actor{Username: "mallory", Role: babysitter.RoleParent}))
	fmt.Println("alice creating mallory's account is forbidden:", errors.Is(err, babysitter.ErrForbidden))
	// Output:
	// alice alice@example.com PARENT UNVERIFIED
	// age on the first of June 2030: 40
	// alice creating mallory's account is forbidden: true
}

// A username or an email that is taken is an *AlreadyExistsError naming
// the field; emails are compared in lower case.
func ExampleAlreadyExistsError() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	join(ctx, svc, "alice", babysitter.RoleParent) // alice@example.com

	bob := babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny}
	in := newUser(bob)
	in.Email = "ALICE@example.com"
	_, err := svc.CreateUser(ctx, bob, in)

	var taken *babysitter.AlreadyExistsError
	if errors.As(err, &taken) {
		fmt.Println("taken:", taken.Field)
	}
	fmt.Println(errors.Is(err, babysitter.ErrAlreadyExists))
	// Output:
	// taken: email
	// true
}

// Only an admin changes an account's status. A nanny must be VERIFIED to
// apply, a parent to book.
func ExampleService_UpdateUserStatus() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	bob := babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny}
	must(svc.CreateUser(ctx, bob, newUser(bob)))

	_, err := svc.UpdateUserStatus(ctx, bob, "bob", babysitter.StatusChange{Status: babysitter.StatusVerified})
	fmt.Println("bob verifying himself is forbidden:", errors.Is(err, babysitter.ErrForbidden))

	admin := babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin} // admins have no account
	u, err := svc.UpdateUserStatus(ctx, admin, "bob", babysitter.StatusChange{Status: babysitter.StatusVerified})
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Username, u.Status)
	// Output:
	// bob verifying himself is forbidden: true
	// bob VERIFIED
}

// A parent posts a job; it starts OPEN. The cost is an integer amount of
// the currency's minor units.
func ExampleService_CreateJob() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	alice := join(ctx, svc, "alice", babysitter.RoleParent)

	job, err := svc.CreateJob(ctx, alice, evening())
	if err != nil {
		panic(err)
	}
	fmt.Println(job.ParentUsername, job.Status, job.JobType, job.Cost)
	fmt.Println(job.StartDate, job.StartTime, "to", job.EndDate, job.EndTime)

	bob := join(ctx, svc, "bob", babysitter.RoleNanny)
	_, err = svc.CreateJob(ctx, bob, evening())
	fmt.Println("a nanny posting a job is forbidden:", errors.Is(err, babysitter.ErrForbidden))
	// Output:
	// alice OPEN BABYSITTING 60.00 EUR
	// 2030-06-01 18:00 to 2030-06-01 23:00
	// a nanny posting a job is forbidden: true
}

// A VERIFIED nanny applies to an OPEN job, once.
func ExampleService_ApplyToJob() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	alice := join(ctx, svc, "alice", babysitter.RoleParent)
	job := must(svc.CreateJob(ctx, alice, evening()))

	dave := babysitter.Actor{Username: "dave", Role: babysitter.RoleNanny}
	must(svc.CreateUser(ctx, dave, newUser(dave))) // not verified yet
	_, err := svc.ApplyToJob(ctx, dave, job.ID, babysitter.NewApplication{})
	fmt.Println("an UNVERIFIED nanny applying is forbidden:", errors.Is(err, babysitter.ErrForbidden))

	bob := join(ctx, svc, "bob", babysitter.RoleNanny)
	app, err := svc.ApplyToJob(ctx, bob, job.ID, babysitter.NewApplication{Message: "I can stay late"})
	if err != nil {
		panic(err)
	}
	fmt.Println(app.NannyUsername, app.Status)

	_, err = svc.ApplyToJob(ctx, bob, job.ID, babysitter.NewApplication{})
	var taken *babysitter.AlreadyExistsError
	fmt.Println("applying twice:", errors.As(err, &taken) && taken.Field == babysitter.FieldApplication)
	// Output:
	// an UNVERIFIED nanny applying is forbidden: true
	// bob PENDING
	// applying twice: true
}

// The parent books one applicant: the job closes and the application is
// accepted in one atomic write, and the job's decline message is sent for
// the other applicants. A retry of the same booking succeeds and changes
// nothing; booking anyone else is a conflict.
func ExampleService_BookNanny() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	s := newStory(ctx, svc)

	booking, err := svc.BookNanny(ctx, s.alice, s.job.ID, s.bobs.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("job", booking.Job.Status, "booked", booking.Job.AcceptedNanny)
	fmt.Println(booking.Application.NannyUsername, booking.Application.Status)
	fmt.Println("decline messages sent:", booking.DeclinesQueued)

	again, err := svc.BookNanny(ctx, s.alice, s.job.ID, s.bobs.ID)
	fmt.Println("retried:", again.Application.Status, err)

	_, err = svc.BookNanny(ctx, s.alice, s.job.ID, s.carols.ID)
	fmt.Println("booking carol is a conflict:", errors.Is(err, babysitter.ErrConflict))

	printApplications(ctx, svc, s) // carol is declined by the consumer (NewDecliner)
	// Output:
	// job CLOSED booked bob
	// bob ACCEPTED
	// decline messages sent: 1
	// retried: ACCEPTED <nil>
	// booking carol is a conflict: true
	// carol PENDING
	// bob ACCEPTED
}

// The decline consumer needs only the store. A Poller, or the Lambda in
// examples/lambda/declines, hands it the batches it receives; here one batch
// is received and handled by hand, as the Poller does.
func ExampleNewDecliner() {
	ctx := context.Background()
	queue := qmemory.New(qmemory.Options{})
	svc, store := newService(queue)
	s := newStory(ctx, svc)
	must(svc.BookNanny(ctx, s.alice, s.job.ID, s.bobs.ID))

	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{})
	msgs := must(queue.Receive(ctx, 10))
	failed := decliner.HandleBatch(ctx, msgs)
	fmt.Printf("%d message, %d failed\n", len(msgs), len(failed))
	if err := queue.Delete(ctx, msgs); err != nil { // the Poller deletes all but the failed ones
		panic(err)
	}
	printApplications(ctx, svc, s)

	// A redelivered message changes nothing: only PENDING applications are declined.
	fmt.Println("redelivered, failed:", len(decliner.HandleBatch(ctx, msgs)))
	printApplications(ctx, svc, s)
	// Output:
	// 1 message, 0 failed
	// carol DECLINED
	// bob ACCEPTED
	// redelivered, failed: 0
	// carol DECLINED
	// bob ACCEPTED
}

// When the decline message is lost — the queue is down, or the process
// dies right after the booking — the booking still succeeds: its write
// recorded the declines as due, and the sweeper declines them once they
// have been due for longer than SweepAfter.
func ExampleDecliner_Sweep() {
	ctx := context.Background()
	svc, store := newService(lostQueue{})
	s := newStory(ctx, svc)
	booking := must(svc.BookNanny(ctx, s.alice, s.job.ID, s.bobs.ID))
	fmt.Println("booked; decline messages sent:", booking.DeclinesQueued)

	booked := booking.Job.UpdatedOn
	now := booked.Add(30 * time.Second)
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{
		Now:        func() time.Time { return now }, // a test clock; time.Now by default
		SweepAfter: time.Minute,                     // the default
		Logger:     slog.New(slog.DiscardHandler),
	})
	fmt.Println("30s later, jobs swept:", must(decliner.Sweep(ctx)))
	printApplications(ctx, svc, s)

	now = booked.Add(2 * time.Minute)
	fmt.Println("2m later, jobs swept:", must(decliner.Sweep(ctx)))
	printApplications(ctx, svc, s)
	// Output:
	// booked; decline messages sent: 0
	// 30s later, jobs swept: 0
	// carol PENDING
	// bob ACCEPTED
	// 2m later, jobs swept: 1
	// carol DECLINED
	// bob ACCEPTED
}

// After the job, the parent marks it COMPLETED and the parent and the
// booked nanny review each other, once each. The review and the reviewee's
// rating aggregate change in one atomic write.
func ExampleService_LeaveReview() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	s := newStory(ctx, svc)
	must(svc.BookNanny(ctx, s.alice, s.job.ID, s.bobs.ID))

	_, err := svc.LeaveReview(ctx, s.alice, s.job.ID, babysitter.NewReview{Rating: 5, Answers: yes(babysitter.ReviewOfNanny)})
	fmt.Println("before CompleteJob, a conflict:", errors.Is(err, babysitter.ErrConflict))

	job := must(svc.CompleteJob(ctx, s.alice, s.job.ID))
	fmt.Println("job", job.Status)

	ofBob := must(svc.LeaveReview(ctx, s.alice, s.job.ID, babysitter.NewReview{
		Rating: 5, Text: "The kids loved him.", Answers: yes(babysitter.ReviewOfNanny),
	}))
	ofAlice := must(svc.LeaveReview(ctx, s.bob, s.job.ID, babysitter.NewReview{
		Rating: 4, Answers: yes(babysitter.ReviewOfParent),
	}))
	fmt.Println(ofBob.Reviewer, "reviewed", ofBob.Reviewee, ofBob.Direction, ofBob.Rating)
	fmt.Println(ofAlice.Reviewer, "reviewed", ofAlice.Reviewee, ofAlice.Direction, ofAlice.Rating)

	_, err = svc.LeaveReview(ctx, s.alice, s.job.ID, babysitter.NewReview{Rating: 1, Answers: yes(babysitter.ReviewOfNanny)})
	var taken *babysitter.AlreadyExistsError
	fmt.Println("a second review:", errors.As(err, &taken) && taken.Field == babysitter.FieldReview)

	_, err = svc.LeaveReview(ctx, s.carol, s.job.ID, babysitter.NewReview{Rating: 1, Answers: yes(babysitter.ReviewOfParent)})
	fmt.Println("carol, not booked, is forbidden:", errors.Is(err, babysitter.ErrForbidden))
	// Output:
	// before CompleteJob, a conflict: true
	// job COMPLETED
	// alice reviewed bob OF_NANNY 5
	// bob reviewed alice OF_PARENT 4
	// a second review: true
	// carol, not booked, is forbidden: true
}

// Reviews and rating aggregates are public: anyone may read them, even an
// anonymous caller (the zero Actor).
func ExampleService_ListReviews() {
	ctx := context.Background()
	svc, _ := newService(qmemory.New(qmemory.Options{}))
	s := newStory(ctx, svc)
	must(svc.BookNanny(ctx, s.alice, s.job.ID, s.bobs.ID))
	must(svc.CompleteJob(ctx, s.alice, s.job.ID))
	must(svc.LeaveReview(ctx, s.alice, s.job.ID, babysitter.NewReview{
		Rating: 4, Text: "On time, great with the kids.", Answers: yes(babysitter.ReviewOfNanny),
	}))

	anyone := babysitter.Actor{}
	page := must(svc.ListReviews(ctx, anyone, "bob", babysitter.PageRequest{Limit: 10}))
	for _, r := range page.Items { // newest first
		fmt.Printf("%d/5 from %s: %s\n", r.Rating, r.Reviewer, r.Text)
	}
	bob := must(svc.GetUser(ctx, anyone, "bob"))
	fmt.Printf("bob: %d review(s), average %.1f\n", bob.Rating.Count, bob.Rating.Average())
	// Output:
	// 4/5 from alice: On time, great with the kids.
	// bob: 1 review(s), average 4.0
}
