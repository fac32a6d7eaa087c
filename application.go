package babysitter

import "time"

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
