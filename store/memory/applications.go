package memory

import (
	"context"
	"time"

	"github.com/babysitter-go/babysitter"
)

type applicantKey struct{ job, nanny string }

// ApplyToJob inserts a with status PENDING as babysitter.CheckApply allows,
// once per nanny and job (*babysitter.AlreadyExistsError on application,
// whatever the status of the earlier one). The nanny's account must exist;
// an application with the same ID is an ErrConflict.
func (s *Store) ApplyToJob(ctx context.Context, g babysitter.Guard, a babysitter.Application) error {
	return s.write(ctx, &g, func() error {
		if _, ok := s.users[a.NannyUsername]; !ok {
			return babysitter.UserNotFound(a.NannyUsername)
		}
		if err := babysitter.CheckApply(s.job(a.JobID), a); err != nil {
			return err
		}
		key := applicantKey{a.JobID, a.NannyUsername}
		if _, ok := s.applicant[key]; ok {
			return babysitter.ApplicationTaken(a)
		}
		if _, ok := s.apps[a.ID]; ok {
			return babysitter.DuplicateID("application", a.ID)
		}
		a.Status = babysitter.ApplicationPending
		s.apps[a.ID] = &a
		s.applicant[key] = a.ID
		s.appsByJob[a.JobID] = insertSorted(s.appsByJob[a.JobID], a.ID)
		s.appsByNanny[a.NannyUsername] = insertSorted(s.appsByNanny[a.NannyUsername], a.ID)
		return nil
	})
}

// WithdrawApplication moves the application PENDING → WITHDRAWN as
// babysitter.CheckWithdraw allows and returns it.
func (s *Store) WithdrawApplication(ctx context.Context, g babysitter.Guard, ref babysitter.ApplicationRef, now time.Time) (babysitter.Application, error) {
	var out babysitter.Application
	err := s.write(ctx, &g, func() error {
		a := s.app(ref.ApplicationID)
		if err := babysitter.CheckWithdraw(g, ref, a); err != nil {
			return err
		}
		a.Status = babysitter.ApplicationWithdrawn
		a.UpdatedOn = now
		out = *a
		return nil
	})
	return out, err
}

// ListApplicationsForJob returns the job and its applications, newest
// first, when babysitter.CheckJobManager allows the actor. ErrNotFound when
// the job does not exist; ErrInvalidInput for a cursor of another list.
func (s *Store) ListApplicationsForJob(ctx context.Context, g babysitter.Guard, jobID string, p babysitter.PageRequest) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
	scope := scopeAppsForJob + jobID
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, err
	}
	var (
		job  babysitter.Job
		page babysitter.Page[babysitter.Application]
	)
	err = s.read(ctx, &g, func() error {
		j := s.job(jobID)
		if j == nil {
			return babysitter.JobNotFound(jobID)
		}
		if err := babysitter.CheckJobManager(g, *j); err != nil {
			return err
		}
		job, page = *j, descPage(scope, s.appsByJob[jobID], before, p.Size(), s.appValue)
		return nil
	})
	return job, page, err
}

// ListJobsAppliedTo returns the nanny and their applications, newest first.
// ErrNotFound when the nanny does not exist; ErrInvalidInput for a cursor
// of another list.
func (s *Store) ListJobsAppliedTo(ctx context.Context, g babysitter.Guard, nanny string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Application], error) {
	return userHeaded(ctx, s, g, scopeAppsByNanny, nanny, s.appsByNanny, s.appValue, p)
}

// appValue is a copy of a stored application; called with s.mu held.
func (s *Store) appValue(id string) babysitter.Application { return *s.apps[id] }
