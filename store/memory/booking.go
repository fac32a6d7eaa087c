package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/babysitter-go/babysitter"
)

// BookNanny moves the job OPEN → CLOSED with the application accepted and
// the application PENDING → ACCEPTED, as babysitter.CheckBooking allows on
// the job, the application and the applicant's account as they are under
// the lock, and records the job's declines as due. A booking already made
// returns the job and the application and changes nothing.
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

// DeclinePending moves every PENDING application of the job to DECLINED
// once babysitter.CheckDecline allows it; it leaves the job's outbox entry
// (ClearDeclines). Under the lock nothing changes between the read and
// the writes, so nothing is skipped here.
func (s *Store) DeclinePending(ctx context.Context, jobID string, now time.Time) (babysitter.DeclineResult, error) {
	var res babysitter.DeclineResult
	err := s.write(ctx, nil, func() error {
		j := s.job(jobID)
		if err := babysitter.CheckDecline(jobID, j); err != nil {
			return err
		}
		res.Job = *j
		for _, id := range s.appsByJob[jobID] {
			a := s.apps[id]
			if babysitter.Declinable(jobID, a) {
				a.Status = babysitter.ApplicationDeclined
				a.UpdatedOn = now
				res.Declined = append(res.Declined, id)
			}
			res.Applications = append(res.Applications, *a)
		}
		return nil
	})
	return res, err
}

// ClearDeclines removes the job's outbox entry.
func (s *Store) ClearDeclines(ctx context.Context, jobID string) error {
	return s.write(ctx, nil, func() error {
		delete(s.due, jobID)
		return nil
	})
}

// DueDeclines returns up to limit jobs whose declines have been due since
// before the given time, oldest first.
func (s *Store) DueDeclines(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var out []string
	err := s.read(ctx, nil, func() error {
		for id, since := range s.due {
			if since.Before(before) {
				out = append(out, id)
			}
		}
		slices.SortFunc(out, func(a, b string) int {
			return cmp.Or(s.due[a].Compare(s.due[b]), cmp.Compare(a, b))
		})
		out = out[:min(limit, len(out))]
		return nil
	})
	return out, err
}
