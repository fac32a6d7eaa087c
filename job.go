package babysitter

import (
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
	AcceptedApplicationID string    `json:"acceptedApplicationId,omitempty"`
	CreatedOn             time.Time `json:"createdOn"`
	UpdatedOn             time.Time `json:"updatedOn"`
	// Version increments on every edit; stores use it for optimistic concurrency.
	Version int64 `json:"version"`
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

func (p JobPatch) apply(d *JobDetails) {
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
