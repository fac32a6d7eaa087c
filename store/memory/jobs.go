package memory

import (
	"context"
	"time"

	"github.com/babysitter-go/babysitter"
)

// CreateJob inserts j with status OPEN; the parent's account must exist.
// A job with the same ID is an ErrConflict.
func (s *Store) CreateJob(ctx context.Context, g babysitter.Guard, j babysitter.Job) error {
	return s.write(ctx, &g, func() error {
		if _, ok := s.users[j.ParentUsername]; !ok {
			return babysitter.UserNotFound(j.ParentUsername)
		}
		if _, ok := s.jobs[j.ID]; ok {
			return babysitter.DuplicateID("job", j.ID)
		}
		j.Status = babysitter.JobOpen
		s.jobs[j.ID] = &j
		s.jobsByStatus[j.Status] = insertSorted(s.jobsByStatus[j.Status], j.ID)
		s.jobsByParent[j.ParentUsername] = insertSorted(s.jobsByParent[j.ParentUsername], j.ID)
		s.index(&j, true)
		return nil
	})
}

// GetJob returns the job. ErrNotFound.
func (s *Store) GetJob(ctx context.Context, g babysitter.Guard, id string) (babysitter.Job, error) {
	var out babysitter.Job
	err := s.read(ctx, &g, func() error {
		j := s.job(id)
		if j == nil {
			return babysitter.JobNotFound(id)
		}
		out = *j
		return nil
	})
	return out, err
}

// UpdateJob writes next's JobDetails, UpdatedOn and Version as
// babysitter.CheckJobUpdate allows.
func (s *Store) UpdateJob(ctx context.Context, g babysitter.Guard, next babysitter.Job) error {
	return s.write(ctx, &g, func() error {
		j := s.job(next.ID)
		if err := babysitter.CheckJobUpdate(g, j, next); err != nil {
			return err
		}
		s.index(j, false)
		j.JobDetails = next.JobDetails
		s.index(j, true)
		j.UpdatedOn = next.UpdatedOn
		j.Version = next.Version
		return nil
	})
}

// TransitionJob moves the job between statuses as
// babysitter.CheckJobTransition allows and sets UpdatedOn; Version is
// unchanged. Returns the updated job.
func (s *Store) TransitionJob(ctx context.Context, g babysitter.Guard, t babysitter.JobTransition) (babysitter.Job, error) {
	var out babysitter.Job
	err := s.write(ctx, &g, func() error {
		j := s.job(t.JobID)
		if err := babysitter.CheckJobTransition(g, j, t); err != nil {
			return err
		}
		s.setJobStatus(j, t.To, t.At)
		out = *j
		return nil
	})
	return out, err
}

// ListJobsByStatus lists the jobs in one status, newest first.
// ErrInvalidInput for a cursor of another list.
func (s *Store) ListJobsByStatus(ctx context.Context, g babysitter.Guard, status babysitter.JobStatus, p babysitter.PageRequest) (babysitter.Page[babysitter.Job], error) {
	scope := scopeJobsByStatus + string(status)
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.Job]{}, err
	}
	var page babysitter.Page[babysitter.Job]
	err = s.read(ctx, &g, func() error {
		page = descPage(scope, s.jobsByStatus[status], before, p.Size(), s.jobValue)
		return nil
	})
	return page, err
}

// ListJobsByParent returns the parent and their jobs, newest first.
// ErrNotFound when the parent does not exist; ErrInvalidInput for a cursor
// of another list.
func (s *Store) ListJobsByParent(ctx context.Context, g babysitter.Guard, parent string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Job], error) {
	return userHeaded(ctx, s, g, scopeJobsByParent, parent, s.jobsByParent, s.jobValue, p)
}

// ListOpenJobsInRanges returns the OPEN jobs in the geohash ranges, reading
// only the index cells the ranges name.
func (s *Store) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	var out []babysitter.Job
	err := s.read(ctx, &g, func() error {
		for _, r := range ranges {
			for id := range s.near[r.Cell] {
				j := s.jobs[id]
				if k := babysitter.Geohash(j.Latitude, j.Longitude, babysitter.GeoKeyPrecision); r.From <= k && k <= r.To {
					out = append(out, *j)
				}
			}
		}
		return nil
	})
	return out, err
}

// jobValue is a copy of a stored job; called with s.mu held.
func (s *Store) jobValue(id string) babysitter.Job { return *s.jobs[id] }

// setJobStatus changes the job's status and moves it between the status
// lists; a job leaving OPEN leaves the geohash index and has its declines
// recorded as due.
func (s *Store) setJobStatus(j *babysitter.Job, to babysitter.JobStatus, now time.Time) {
	if j.Status == babysitter.JobOpen && to != babysitter.JobOpen {
		s.index(j, false)
		s.due[j.ID] = now
	}
	s.jobsByStatus[j.Status] = removeSorted(s.jobsByStatus[j.Status], j.ID)
	s.jobsByStatus[to] = insertSorted(s.jobsByStatus[to], j.ID)
	j.Status = to
	j.UpdatedOn = now
}

// index adds an OPEN job to the geohash index, under its partition
// (babysitter.GeoCell), or removes it.
func (s *Store) index(j *babysitter.Job, add bool) {
	cell := babysitter.GeoCell(j.Latitude, j.Longitude)
	if !add {
		delete(s.near[cell], j.ID)
		return
	}
	if s.near[cell] == nil {
		s.near[cell] = map[string]bool{}
	}
	s.near[cell][j.ID] = true
}
