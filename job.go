package babysitter

import (
	"context"
	"time"
)

// JobType is what a parent needs done.
type JobType string

// The job types.
const (
	JobBabysitting    JobType = "BABYSITTING"
	JobCleaning       JobType = "CLEANING"
	JobRunningErrands JobType = "RUNNING_ERRANDS"
)

// JobStatus moves OPEN → CLOSED → COMPLETED, or OPEN → CANCELLED.
type JobStatus string

// The job statuses.
const (
	JobOpen      JobStatus = "OPEN"
	JobClosed    JobStatus = "CLOSED"
	JobCompleted JobStatus = "COMPLETED"
	JobCancelled JobStatus = "CANCELLED"
)

// Valid reports whether s is one of the defined statuses.
func (s JobStatus) Valid() bool {
	return s == JobOpen || s == JobClosed || s == JobCompleted || s == JobCancelled
}

// JobDetails are the fields a parent sets when posting or editing a job.
// The job runs from StartDate at StartTime to EndDate at EndTime.
type JobDetails struct {
	JobType      JobType   `json:"jobType"`
	Description  string    `json:"description"`
	NumberOfKids int       `json:"numberOfKids"`
	StartDate    Date      `json:"startDate"`
	EndDate      Date      `json:"endDate"`
	StartTime    TimeOfDay `json:"startTime"`
	EndTime      TimeOfDay `json:"endTime"`
	Address      string    `json:"address"`
	City         string    `json:"city"`
	Latitude     float64   `json:"latitude"`
	Longitude    float64   `json:"longitude"`
	Cost         Money     `json:"cost"`
}

// Job is a parent's posting. IDs are UUIDv7, so they sort by creation time.
type Job struct {
	ID             string `json:"id"`
	ParentUsername string `json:"username"`
	JobDetails
	Status JobStatus `json:"jobStatus"`
	// AcceptedApplicationID is set when the job is booked (CLOSED).
	AcceptedApplicationID string `json:"acceptedApplicationId,omitempty"`
	// AcceptedNanny is the booked nanny's username, set with
	// AcceptedApplicationID; reviews use it to know the two parties.
	AcceptedNanny string    `json:"acceptedNanny,omitempty"`
	CreatedOn     time.Time `json:"createdOn"`
	UpdatedOn     time.Time `json:"updatedOn"`
	// Version increments on every edit; stores use it for optimistic
	// concurrency. It is not part of the API's JSON: no operation takes it.
	Version int64 `json:"-"`
}

// JobPatch is the input of UpdateJob: nil fields stay as they are.
type JobPatch struct {
	JobType      *JobType   `json:"jobType,omitempty"`
	Description  *string    `json:"description,omitempty"`
	NumberOfKids *int       `json:"numberOfKids,omitempty"`
	StartDate    *Date      `json:"startDate,omitempty"`
	EndDate      *Date      `json:"endDate,omitempty"`
	StartTime    *TimeOfDay `json:"startTime,omitempty"`
	EndTime      *TimeOfDay `json:"endTime,omitempty"`
	Address      *string    `json:"address,omitempty"`
	City         *string    `json:"city,omitempty"`
	Latitude     *float64   `json:"latitude,omitempty"`
	Longitude    *float64   `json:"longitude,omitempty"`
	Cost         *Money     `json:"cost,omitempty"`
}

// ApplyTo sets the fields of d that p sets and leaves the others: the
// details UpdateJob validates and writes. Transports that build a job's
// details from a patch-shaped input (transport/appsync) use it too.
func (p JobPatch) ApplyTo(d *JobDetails) {
	set(&d.JobType, p.JobType)
	set(&d.Description, p.Description)
	set(&d.NumberOfKids, p.NumberOfKids)
	set(&d.StartDate, p.StartDate)
	set(&d.EndDate, p.EndDate)
	set(&d.StartTime, p.StartTime)
	set(&d.EndTime, p.EndTime)
	set(&d.Address, p.Address)
	set(&d.City, p.City)
	set(&d.Latitude, p.Latitude)
	set(&d.Longitude, p.Longitude)
	set(&d.Cost, p.Cost)
}

// validate reports every problem of the details.
func (d JobDetails) validate() error {
	var fe fieldErrors
	switch d.JobType {
	case JobBabysitting:
		if d.NumberOfKids < 1 || d.NumberOfKids > 20 {
			fe.add("numberOfKids", "must be between 1 and 20 for BABYSITTING")
		}
	case JobCleaning, JobRunningErrands:
		if d.NumberOfKids < 0 || d.NumberOfKids > 20 {
			fe.add("numberOfKids", "must be between 0 and 20")
		}
	default:
		fe.add("jobType", "must be BABYSITTING, CLEANING or RUNNING_ERRANDS")
	}
	checkText(&fe, "description", d.Description, false, 2000)
	dates := true
	if d.StartDate.IsZero() {
		fe.add("startDate", "is required")
		dates = false
	}
	if d.EndDate.IsZero() {
		fe.add("endDate", "is required")
		dates = false
	}
	if d.StartTime < 0 || d.StartTime >= 24*60 {
		fe.add("startTime", "must be between 00:00 and 23:59")
		dates = false
	}
	if d.EndTime < 0 || d.EndTime >= 24*60 {
		fe.add("endTime", "must be between 00:00 and 23:59")
		dates = false
	}
	if dates {
		start := d.StartDate.Time().Add(time.Duration(d.StartTime) * time.Minute)
		end := d.EndDate.Time().Add(time.Duration(d.EndTime) * time.Minute)
		if !start.Before(end) {
			fe.add("endDate", "the job must end after it starts (startDate+startTime before endDate+endTime)")
		}
	}
	checkText(&fe, "address", d.Address, true, 300)
	checkText(&fe, "city", d.City, true, 100)
	validateCoordinates(&fe, d.Latitude, d.Longitude)
	d.Cost.validate(&fe, "cost", false)
	return fe.err()
}

// ParentJobs is a parent with one page of their jobs.
type ParentJobs struct {
	Parent User      `json:"parent"`
	Jobs   Page[Job] `json:"jobs"`
}

// CreateJob posts a job owned by the calling parent; it starts OPEN.
func (s *Service) CreateJob(ctx context.Context, a Actor, d JobDetails) (_ Job, err error) {
	const op = "CreateJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent); err != nil {
		return Job{}, opErr(op, err)
	}
	if err := d.validate(); err != nil {
		return Job{}, opErr(op, err)
	}
	now := s.now()
	j := Job{
		ID:             s.newID(),
		ParentUsername: a.Username,
		JobDetails:     d,
		Status:         JobOpen,
		CreatedOn:      now,
		UpdatedOn:      now,
		Version:        1,
	}
	s.tel.setIDs(ctx, spanIDs{job: j.ID})
	if err := s.store.CreateJob(ctx, guard(a, s.active), j); err != nil {
		return Job{}, opErr(op, err)
	}
	return j, nil
}

// visibleTo returns the job as a may see it. Its parent, its booked nanny
// and admins see all of it, and so does anyone while it is OPEN (nannies
// need its place and hours to apply). Once it has left OPEN, anyone else
// sees neither who was booked nor where: AcceptedNanny,
// AcceptedApplicationID and Address are empty and Latitude, Longitude 0 —
// else any account could follow a named nanny to a family's home, and a
// deleted parent's address would stay readable by everyone.
func (j Job) visibleTo(a Actor) Job {
	party := a.Role == RoleAdmin ||
		a.Role == RoleParent && a.Username == j.ParentUsername ||
		a.Role == RoleNanny && j.AcceptedNanny != "" && a.Username == j.AcceptedNanny
	if j.Status == JobOpen || party {
		return j
	}
	j.AcceptedNanny, j.AcceptedApplicationID = "", ""
	j.Address, j.Latitude, j.Longitude = "", 0, 0
	return j
}

// GetJob returns a job to any authenticated user (see Job.visibleTo for
// what a job that has left OPEN shows to others than its parties).
func (s *Service) GetJob(ctx context.Context, a Actor, id string) (_ Job, err error) {
	const op = "GetJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: id})
	defer func() { end(err) }()
	if err := authenticate(a); err != nil {
		return Job{}, opErr(op, err)
	}
	if err := validID("jobId", id); err != nil {
		return Job{}, opErr(op, err)
	}
	j, err := s.store.GetJob(ctx, guard(a, s.active), id)
	if err != nil {
		return Job{}, opErr(op, err)
	}
	return j.visibleTo(a), nil
}

// UpdateJob edits an OPEN job, for its parent or an admin. A concurrent
// edit or booking makes it fail with ErrConflict.
func (s *Service) UpdateJob(ctx context.Context, a Actor, id string, p JobPatch) (_ Job, err error) {
	const op = "UpdateJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: id})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent, RoleAdmin); err != nil {
		return Job{}, opErr(op, err)
	}
	if err := validID("jobId", id); err != nil {
		return Job{}, opErr(op, err)
	}
	g := guard(a, s.active)
	cur, err := s.store.GetJob(ctx, g, id)
	if err != nil {
		return Job{}, opErr(op, err)
	}
	next := cur
	p.ApplyTo(&next.JobDetails)
	if err := next.JobDetails.validate(); err != nil {
		return Job{}, opErr(op, err)
	}
	next.UpdatedOn = s.now()
	next.Version = cur.Version + 1
	if err := s.store.UpdateJob(ctx, g, next); err != nil {
		return Job{}, opErr(op, err)
	}
	return next, nil
}

// CancelJob moves an OPEN job to CANCELLED, for its parent or an admin, and
// sends the job's decline message; as for BookNanny, the cancellation's
// write records the declines as due, so they follow even if the message
// is lost.
func (s *Service) CancelJob(ctx context.Context, a Actor, id string) (_ Job, err error) {
	const op = "CancelJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: id})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent, RoleAdmin); err != nil {
		return Job{}, opErr(op, err)
	}
	if err := validID("jobId", id); err != nil {
		return Job{}, opErr(op, err)
	}
	j, err := s.store.TransitionJob(ctx, guard(a, s.active), JobTransition{JobID: id, From: JobOpen, To: JobCancelled, At: s.now()})
	if err != nil {
		return Job{}, opErr(op, err)
	}
	s.queueDeclines(ctx, op, id)
	return j, nil
}

// ListJobsByStatus lists jobs in one status, newest first, for nannies and
// admins.
func (s *Service) ListJobsByStatus(ctx context.Context, a Actor, status JobStatus, p PageRequest) (_ Page[Job], err error) {
	const op = "ListJobsByStatus"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorize(a, RoleNanny, RoleAdmin); err != nil {
		return Page[Job]{}, opErr(op, err)
	}
	if !status.Valid() {
		return Page[Job]{}, opErr(op, invalid("jobStatus", "must be OPEN, CLOSED, COMPLETED or CANCELLED"))
	}
	p, err = p.normalize()
	if err != nil {
		return Page[Job]{}, opErr(op, err)
	}
	page, err := s.store.ListJobsByStatus(ctx, guard(a, s.active), status, p)
	if err != nil {
		return Page[Job]{}, opErr(op, err)
	}
	for i, j := range page.Items {
		page.Items[i] = j.visibleTo(a)
	}
	return page, nil
}

// ListJobsByParent returns a parent and their jobs, newest first, for that
// parent and admins.
func (s *Service) ListJobsByParent(ctx context.Context, a Actor, parent string, p PageRequest) (_ ParentJobs, err error) {
	const op = "ListJobsByParent"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorizeSelf(a, parent); err != nil {
		return ParentJobs{}, opErr(op, err)
	}
	if a.Role != RoleAdmin && a.Role != RoleParent {
		return ParentJobs{}, opErr(op, Errorf(ErrForbidden, "role %q has no jobs", a.Role))
	}
	if err := validUsernameArg(parent); err != nil {
		return ParentJobs{}, opErr(op, err)
	}
	p, err = p.normalize()
	if err != nil {
		return ParentJobs{}, opErr(op, err)
	}
	u, page, err := s.store.ListJobsByParent(ctx, guard(a, s.active), parent, p)
	if err != nil {
		return ParentJobs{}, opErr(op, err)
	}
	return ParentJobs{Parent: u, Jobs: page}, nil
}
