package memory

import (
	"context"
	"time"

	"github.com/babysitter-go/babysitter"
)

// BookNanny moves the job OPEN → CLOSED with the application accepted and
// the application PENDING → ACCEPTED, as babysitter.CheckBooking allows on
// the job, the application and the applicant's account as they are under
// the lock. A booking already made returns the job and the application
// and changes nothing.
func (s *Store) BookNanny(ctx context.Context, r babysitter.BookRequest) (babysitter.Job, babysitter.Application, error) {
	var (
		job babysitter.Job
		app babysitter.Application
	)
	err := s.write(ctx, &r.Guard, func() error {
		j, a := s.job(r.JobID), s.app(r.ApplicationID)
		var nanny *babysitter.User
		if a != nil {
			nanny = s.users[a.NannyUsername]
		}
		done, err := babysitter.CheckBooking(r, j, a, nanny)
		if err != nil {
			return err
		}
		if !done {
			s.setJobStatus(j, babysitter.JobClosed, r.At)
			j.AcceptedApplicationID = a.ID
			j.AcceptedNanny = a.NannyUsername
			a.Status = babysitter.ApplicationAccepted
			a.UpdatedOn = r.At
		}
		job, app = *j, *a
		return nil
	})
	return job, app, err
}

// PendingApplications returns every PENDING application of the job, newest
// first; none (and no error) when the job does not exist.
func (s *Store) PendingApplications(ctx context.Context, jobID string) ([]babysitter.Application, error) {
	var out []babysitter.Application
	err := s.read(ctx, nil, func() error {
		ids := s.appsByJob[jobID]
		for i := len(ids) - 1; i >= 0; i-- {
			if a := s.apps[ids[i]]; a.Status == babysitter.ApplicationPending {
				out = append(out, *a)
			}
		}
		return nil
	})
	return out, err
}

// DeclineApplications moves each listed application of the job PENDING →
// DECLINED where babysitter.Declinable says so, skipping the others
// untouched, once babysitter.CheckDecline allows declines on the job.
// Declined and Skipped keep the order of applicationIDs.
func (s *Store) DeclineApplications(ctx context.Context, jobID string, applicationIDs []string, now time.Time) (babysitter.DeclineResult, error) {
	var res babysitter.DeclineResult
	err := s.write(ctx, nil, func() error {
		if err := babysitter.CheckDecline(jobID, s.job(jobID)); err != nil {
			return err
		}
		for _, id := range applicationIDs {
			a := s.app(id)
			if !babysitter.Declinable(jobID, a) {
				res.Skipped = append(res.Skipped, id)
				continue
			}
			a.Status = babysitter.ApplicationDeclined
			a.UpdatedOn = now
			res.Declined = append(res.Declined, id)
		}
		return nil
	})
	return res, err
}
