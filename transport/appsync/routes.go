package appsync

import (
	"context"
	"encoding/json"
	"time"

	"github.com/babysitter-go/babysitter"
)

// call is what a route gets: the Service, the caller, the field's raw
// arguments and the time to derive ages with.
type call struct {
	svc   *babysitter.Service
	actor babysitter.Actor
	args  json.RawMessage
	now   time.Time
}

// resolve is one field's resolver. It returns the field's value in the
// shape of schema.graphql, or an error of the Service.
type resolve func(ctx context.Context, c call) (any, error)

// Field names a GraphQL field: its parent type and its name.
type Field struct {
	Parent string // "Query" or "Mutation"
	Name   string
}

// String implements fmt.Stringer.
func (f Field) String() string { return f.Parent + "." + f.Name }

// routes is the route table: every Query and Mutation field of
// schema.graphql and the Service operation behind it.
var routes = map[Field]resolve{
	{"Query", "getUser"}:                getUser,
	{"Query", "listUser"}:               listUser,
	{"Query", "getJob"}:                 getJob,
	{"Query", "listAllJobs"}:            listAllJobs,
	{"Query", "listJobsPerParent"}:      listJobsPerParent,
	{"Query", "listApplicationsPerJob"}: listApplicationsPerJob,
	{"Query", "listJobsAppliedTo"}:      listJobsAppliedTo,
	{"Query", "listReviews"}:            listReviews,
	{"Query", "listJobsNear"}:           listJobsNear,
	{"Query", "getDocument"}:            getDocument,
	{"Mutation", "createUser"}:          createUser,
	{"Mutation", "updateUser"}:          updateUser,
	{"Mutation", "updateUserStatus"}:    updateUserStatus,
	{"Mutation", "deleteUser"}:          deleteUser,
	{"Mutation", "createJob"}:           createJob,
	{"Mutation", "updateJob"}:           updateJob,
	{"Mutation", "cancelJob"}:           cancelJob,
	{"Mutation", "applyToJob"}:          applyToJob,
	{"Mutation", "withdrawApplication"}: withdrawApplication,
	{"Mutation", "bookNanny"}:           bookNanny,
	{"Mutation", "reconcileJob"}:        reconcileJob,
	{"Mutation", "completeJob"}:         completeJob,
	{"Mutation", "leaveReview"}:         leaveReview,
	{"Mutation", "requestUpload"}:       requestUpload,
	{"Mutation", "confirmUpload"}:       confirmUpload,
}

func getUser(ctx context.Context, c call) (any, error) {
	var a struct {
		Username string `json:"username"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	u, err := c.svc.GetUser(ctx, c.actor, a.Username)
	if err != nil {
		return nil, err
	}
	return user(u, c.now), nil
}

func listUser(ctx context.Context, c call) (any, error) {
	var a struct {
		Type string `json:"type"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	p, err := c.svc.ListUsers(ctx, c.actor, babysitter.UserType(a.Type), a.request())
	if err != nil {
		return nil, err
	}
	return page(p, func(u babysitter.User) userView { return user(u, c.now) }), nil
}

func getJob(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID string `json:"jobId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	j, err := c.svc.GetJob(ctx, c.actor, a.JobID)
	if err != nil {
		return nil, err
	}
	return job(j), nil
}

func listAllJobs(ctx context.Context, c call) (any, error) {
	var a struct {
		JobStatus string `json:"jobStatus"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	p, err := c.svc.ListJobsByStatus(ctx, c.actor, babysitter.JobStatus(a.JobStatus), a.request())
	if err != nil {
		return nil, err
	}
	return page(p, job), nil
}

// listJobsPerParent lists the caller's own jobs, as the tutorial's field
// (which took no argument) did, unless username names another parent
// (for an admin).
func listJobsPerParent(ctx context.Context, c call) (any, error) {
	var a struct {
		Username *string `json:"username"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	username := c.actor.Username
	if a.Username != nil {
		username = *a.Username
	}
	r, err := c.svc.ListJobsByParent(ctx, c.actor, username, a.request())
	if err != nil {
		return nil, err
	}
	return parentJobsView{Parent: user(r.Parent, c.now), Jobs: page(r.Jobs, job)}, nil
}

func listApplicationsPerJob(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID string `json:"jobId"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	r, err := c.svc.ListApplicationsForJob(ctx, c.actor, a.JobID, a.request())
	if err != nil {
		return nil, err
	}
	return jobApplicationsView{Job: job(r.Job), Applications: page(r.Applications, application)}, nil
}

func listJobsAppliedTo(ctx context.Context, c call) (any, error) {
	var a struct {
		Username string `json:"username"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	r, err := c.svc.ListJobsAppliedTo(ctx, c.actor, a.Username, a.request())
	if err != nil {
		return nil, err
	}
	return nannyApplicationsView{Nanny: user(r.Nanny, c.now), Applications: page(r.Applications, application)}, nil
}

func createUser(ctx context.Context, c call) (any, error) {
	var a struct {
		User createUserInput `json:"user"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	in, err := a.User.newUser(c.actor)
	if err != nil {
		return nil, err
	}
	u, err := c.svc.CreateUser(ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	return user(u, c.now), nil
}

func updateUser(ctx context.Context, c call) (any, error) {
	var a struct {
		User updateUserInput `json:"user"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	p, err := a.User.patch()
	if err != nil {
		return nil, err
	}
	u, err := c.svc.UpdateUser(ctx, c.actor, a.User.Username, p)
	if err != nil {
		return nil, err
	}
	return user(u, c.now), nil
}

func updateUserStatus(ctx context.Context, c call) (any, error) {
	var a struct {
		Username string  `json:"username"`
		Status   string  `json:"status"`
		UploadID *string `json:"uploadId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	u, err := c.svc.UpdateUserStatus(ctx, c.actor, a.Username, babysitter.StatusChange{Status: babysitter.AccountStatus(a.Status), UploadID: deref(a.UploadID)})
	if err != nil {
		return nil, err
	}
	return user(u, c.now), nil
}

func deleteUser(ctx context.Context, c call) (any, error) {
	var a struct {
		Username string `json:"username"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	if err := c.svc.DeleteUser(ctx, c.actor, a.Username); err != nil {
		return nil, err
	}
	return true, nil
}

func createJob(ctx context.Context, c call) (any, error) {
	var a struct {
		Job jobInput `json:"job"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	d, err := a.Job.details()
	if err != nil {
		return nil, err
	}
	j, err := c.svc.CreateJob(ctx, c.actor, d)
	if err != nil {
		return nil, err
	}
	return job(j), nil
}

func updateJob(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID string   `json:"jobId"`
		Job   jobInput `json:"job"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	p, err := a.Job.patch()
	if err != nil {
		return nil, err
	}
	j, err := c.svc.UpdateJob(ctx, c.actor, a.JobID, p)
	if err != nil {
		return nil, err
	}
	return job(j), nil
}

func cancelJob(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID string `json:"jobId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	j, err := c.svc.CancelJob(ctx, c.actor, a.JobID)
	if err != nil {
		return nil, err
	}
	return job(j), nil
}

func applyToJob(ctx context.Context, c call) (any, error) {
	var a struct {
		Application struct {
			JobID   string  `json:"jobId"`
			Message *string `json:"message"`
		} `json:"application"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	in := a.Application
	app, err := c.svc.ApplyToJob(ctx, c.actor, in.JobID, babysitter.NewApplication{Message: deref(in.Message)})
	if err != nil {
		return nil, err
	}
	return application(app), nil
}

func withdrawApplication(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID         string `json:"jobId"`
		ApplicationID string `json:"applicationId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	app, err := c.svc.WithdrawApplication(ctx, c.actor, a.JobID, a.ApplicationID)
	if err != nil {
		return nil, err
	}
	return application(app), nil
}

func bookNanny(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID         string `json:"jobId"`
		ApplicationID string `json:"applicationId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	b, err := c.svc.BookNanny(ctx, c.actor, a.JobID, a.ApplicationID)
	if err != nil {
		return nil, err
	}
	return bookingView{Job: job(b.Job), Application: application(b.Application), DeclinesQueued: b.DeclinesQueued}, nil
}

func reconcileJob(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID string `json:"jobId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	n, err := c.svc.ReconcileJob(ctx, c.actor, a.JobID)
	if err != nil {
		return nil, err
	}
	return reconcileView{JobID: a.JobID, DeclinesQueued: n}, nil
}

func completeJob(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID string `json:"jobId"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	j, err := c.svc.CompleteJob(ctx, c.actor, a.JobID)
	if err != nil {
		return nil, err
	}
	return job(j), nil
}

func leaveReview(ctx context.Context, c call) (any, error) {
	var a struct {
		JobID  string           `json:"jobId"`
		Review leaveReviewInput `json:"review"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	in, err := a.Review.newReview()
	if err != nil {
		return nil, err
	}
	r, err := c.svc.LeaveReview(ctx, c.actor, a.JobID, in)
	if err != nil {
		return nil, err
	}
	return review(r), nil
}

func listReviews(ctx context.Context, c call) (any, error) {
	var a struct {
		Username string `json:"username"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	p, err := c.svc.ListReviews(ctx, c.actor, a.Username, a.request())
	if err != nil {
		return nil, err
	}
	return page(p, review), nil
}

func listJobsNear(ctx context.Context, c call) (any, error) {
	var a struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		RadiusKm  float64 `json:"radiusKm"`
		pageArgs
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	p, err := c.svc.ListJobsNear(ctx, c.actor, a.Latitude, a.Longitude, a.RadiusKm, a.request())
	if err != nil {
		return nil, err
	}
	return page(p, nearbyJob), nil
}

// uploadArgs name one upload of one user.
type uploadArgs struct {
	Username string `json:"username"`
	UploadID string `json:"uploadId"`
}

func (a uploadArgs) ref() babysitter.UploadRef {
	return babysitter.UploadRef{Username: a.Username, UploadID: a.UploadID}
}

func requestUpload(ctx context.Context, c call) (any, error) {
	var a struct {
		Username string                   `json:"username"`
		Upload   babysitter.UploadRequest `json:"upload"`
	}
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	t, err := c.svc.RequestUpload(ctx, c.actor, a.Username, a.Upload)
	if err != nil {
		return nil, err
	}
	return uploadTicketView{Upload: upload(t.Upload), Request: presigned(t.Request)}, nil
}

func confirmUpload(ctx context.Context, c call) (any, error) {
	var a uploadArgs
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	u, err := c.svc.ConfirmUpload(ctx, c.actor, a.ref())
	if err != nil {
		return nil, err
	}
	return user(u, c.now), nil
}

func getDocument(ctx context.Context, c call) (any, error) {
	var a uploadArgs
	if err := decodeArgs(c.args, &a); err != nil {
		return nil, err
	}
	pr, err := c.svc.GetDocument(ctx, c.actor, a.ref())
	if err != nil {
		return nil, err
	}
	return presigned(pr), nil
}
