package babysitter

import (
	"context"
	"errors"
	"time"
)

// ApplicationStatus moves PENDING → ACCEPTED | DECLINED, or PENDING → WITHDRAWN.
type ApplicationStatus string

// The application statuses.
const (
	ApplicationPending   ApplicationStatus = "PENDING"
	ApplicationAccepted  ApplicationStatus = "ACCEPTED"
	ApplicationDeclined  ApplicationStatus = "DECLINED"
	ApplicationWithdrawn ApplicationStatus = "WITHDRAWN"
)

// Application is a nanny's application to a job; a nanny applies at most
// once per job.
type Application struct {
	ID            string            `json:"id"`
	JobID         string            `json:"jobId"`
	NannyUsername string            `json:"username"`
	Message       string            `json:"message,omitempty"`
	Status        ApplicationStatus `json:"jobApplicationStatus"`
	CreatedOn     time.Time         `json:"createdOn"`
	UpdatedOn     time.Time         `json:"updatedOn"`
}

// NewApplication is the optional input of ApplyToJob.
type NewApplication struct {
	Message string `json:"message,omitempty"`
}

// JobApplications is a job with one page of its applications.
type JobApplications struct {
	Job          Job               `json:"job"`
	Applications Page[Application] `json:"applications"`
}

// NannyApplications is a nanny with one page of their applications.
type NannyApplications struct {
	Nanny        User              `json:"nanny"`
	Applications Page[Application] `json:"applications"`
}

// ApplyToJob applies the calling nanny to an OPEN job, at most once per job.
// By default the nanny's account must be VERIFIED (Options.AllowUnverified);
// the check is part of the same atomic write.
func (s *Service) ApplyToJob(ctx context.Context, a Actor, jobID string, in NewApplication) (_ Application, err error) {
	const op = "ApplyToJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID})
	defer func() { end(err) }()
	if err := authorize(a, RoleNanny); err != nil {
		return Application{}, opErr(op, err)
	}
	var fe fieldErrors
	var e *InvalidInputError
	if errors.As(validID("jobId", jobID), &e) {
		fe = append(fe, e.Fields...)
	}
	checkText(&fe, "message", in.Message, false, 1000)
	if err := fe.err(); err != nil {
		return Application{}, opErr(op, err)
	}
	now := s.now()
	app := Application{
		ID:            s.newID(),
		JobID:         jobID,
		NannyUsername: a.Username,
		Message:       in.Message,
		Status:        ApplicationPending,
		CreatedOn:     now,
		UpdatedOn:     now,
	}
	s.tel.setIDs(ctx, spanIDs{application: app.ID})
	if err := s.store.ApplyToJob(ctx, guard(a, s.verified), app); err != nil {
		return Application{}, opErr(op, err)
	}
	return app, nil
}

// WithdrawApplication withdraws the calling nanny's PENDING application.
func (s *Service) WithdrawApplication(ctx context.Context, a Actor, jobID, applicationID string) (_ Application, err error) {
	const op = "WithdrawApplication"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID, application: applicationID})
	defer func() { end(err) }()
	if err := authorize(a, RoleNanny); err != nil {
		return Application{}, opErr(op, err)
	}
	if err := validIDs("jobId", jobID, "applicationId", applicationID); err != nil {
		return Application{}, opErr(op, err)
	}
	app, err := s.store.WithdrawApplication(ctx, guard(a, s.active), ApplicationRef{JobID: jobID, ApplicationID: applicationID}, s.now())
	return app, opErr(op, err)
}

// ListApplicationsForJob returns a job and its applications, newest first,
// for the job's parent and admins.
func (s *Service) ListApplicationsForJob(ctx context.Context, a Actor, jobID string, p PageRequest) (_ JobApplications, err error) {
	const op = "ListApplicationsForJob"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{job: jobID})
	defer func() { end(err) }()
	if err := authorize(a, RoleParent, RoleAdmin); err != nil {
		return JobApplications{}, opErr(op, err)
	}
	if err := validID("jobId", jobID); err != nil {
		return JobApplications{}, opErr(op, err)
	}
	p, err = p.normalize()
	if err != nil {
		return JobApplications{}, opErr(op, err)
	}
	j, page, err := s.store.ListApplicationsForJob(ctx, guard(a, s.active), jobID, p)
	if err != nil {
		return JobApplications{}, opErr(op, err)
	}
	return JobApplications{Job: j, Applications: page}, nil
}

// ListJobsAppliedTo returns a nanny and their applications, newest first,
// for that nanny and admins.
func (s *Service) ListJobsAppliedTo(ctx context.Context, a Actor, nanny string, p PageRequest) (_ NannyApplications, err error) {
	const op = "ListJobsAppliedTo"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorizeSelf(a, nanny); err != nil {
		return NannyApplications{}, opErr(op, err)
	}
	if a.Role != RoleAdmin && a.Role != RoleNanny {
		return NannyApplications{}, opErr(op, Errorf(ErrForbidden, "role %q has no applications", a.Role))
	}
	if err := validUsernameArg(nanny); err != nil {
		return NannyApplications{}, opErr(op, err)
	}
	p, err = p.normalize()
	if err != nil {
		return NannyApplications{}, opErr(op, err)
	}
	u, page, err := s.store.ListJobsAppliedTo(ctx, guard(a, s.active), nanny, p)
	if err != nil {
		return NannyApplications{}, opErr(op, err)
	}
	return NannyApplications{Nanny: u, Applications: page}, nil
}

// validIDs validates pairs of (field, id) and reports every bad one.
func validIDs(fieldsAndIDs ...string) error {
	var fe fieldErrors
	for i := 0; i+1 < len(fieldsAndIDs); i += 2 {
		var e *InvalidInputError
		if errors.As(validID(fieldsAndIDs[i], fieldsAndIDs[i+1]), &e) {
			fe = append(fe, e.Fields...)
		}
	}
	return fe.err()
}
