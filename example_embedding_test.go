package babysitter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// A program that embeds the Service on the in-memory backends, with the
// decline consumer and the sweeper running beside it, and plays the
// tutorial's story: a parent posts a job, two nannies apply, she books one
// and the other is declined.
func Example_embedding() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// booked bob, job CLOSED
	// booking carol too is a conflict: true
	// carol DECLINED
	// bob ACCEPTED
}

func run(ctx context.Context) error {
	store := smemory.New()
	queue := qmemory.New(qmemory.Options{})
	// VerifyWithoutDocument: this story's admin verifies accounts without
	// looking at identity documents (by default a VERIFIED decision names
	// one the user uploaded: RequestUpload, ConfirmUpload).
	svc := babysitter.New(store, queue, babysitter.Options{VerifyWithoutDocument: true})

	// The decline consumer and the sweeper. In production they may run in
	// another process: examples/lambda has them as Lambda functions.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{})
	go (&babysitter.Poller{Source: queue, Handler: decliner.HandleBatch}).Run(ctx)
	go decliner.RunSweeper(ctx, 30*time.Second) // declines whatever a lost message left

	// Actors come from your authentication layer: a verified token's
	// subject and group.
	admin := babysitter.Actor{Username: "admin", Role: babysitter.RoleAdmin}
	alice := babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}
	bob := babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny}
	carol := babysitter.Actor{Username: "carol", Role: babysitter.RoleNanny}

	for _, a := range []babysitter.Actor{alice, bob, carol} {
		kind := babysitter.UserNanny
		if a.Role == babysitter.RoleParent {
			kind = babysitter.UserParent
		}
		_, err := svc.CreateUser(ctx, a, babysitter.NewUser{
			Username: a.Username, Email: a.Username + "@example.com", Type: kind,
			Profile: babysitter.Profile{FirstName: a.Username, LastName: "Smith",
				DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}},
		})
		if err != nil {
			return err // errors.Is(err, babysitter.ErrAlreadyExists): the username or email is taken
		}
		// Accounts start UNVERIFIED; only VERIFIED parents book and VERIFIED nannies apply.
		if _, err := svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
			return err
		}
	}

	job, err := svc.CreateJob(ctx, alice, babysitter.JobDetails{
		JobType: babysitter.JobBabysitting, Description: "Two kids, one evening", NumberOfKids: 2,
		StartDate: babysitter.Date{Year: 2030, Month: time.June, Day: 1}, StartTime: 18 * 60, // minutes after midnight
		EndDate: babysitter.Date{Year: 2030, Month: time.June, Day: 1}, EndTime: 23 * 60,
		Address: "1 Main Street", City: "Berlin", Latitude: 52.52, Longitude: 13.405,
		Cost: babysitter.Money{Amount: 6000, Currency: "EUR"}, // minor units: 60.00 EUR
	})
	if err != nil {
		return err
	}
	bobs, err := svc.ApplyToJob(ctx, bob, job.ID, babysitter.NewApplication{})
	if err != nil {
		return err
	}
	carols, err := svc.ApplyToJob(ctx, carol, job.ID, babysitter.NewApplication{Message: "I can stay late"})
	if err != nil {
		return err
	}

	booking, err := svc.BookNanny(ctx, alice, job.ID, bobs.ID)
	if err != nil {
		return err
	}
	fmt.Printf("booked %s, job %s\n", booking.Application.NannyUsername, booking.Job.Status)
	_, err = svc.BookNanny(ctx, alice, job.ID, carols.ID)
	fmt.Println("booking carol too is a conflict:", errors.Is(err, babysitter.ErrConflict))

	// The Poller declines carol in the background. A real program does not
	// wait for it; this one waits for the queue to drain to print the outcome.
	for visible, inFlight := queue.Len(); visible+inFlight > 0; visible, inFlight = queue.Len() {
		time.Sleep(10 * time.Millisecond)
	}
	apps, err := svc.ListApplicationsForJob(ctx, alice, job.ID, babysitter.PageRequest{})
	if err != nil {
		return err
	}
	for _, app := range apps.Applications.Items { // newest first
		fmt.Println(app.NannyUsername, app.Status)
	}
	return nil
}
