package appsync

import (
	"maps"
	"slices"
	"time"

	"github.com/babysitter-go/babysitter"
)

// The GraphQL output types of schema.graphql. They use the library's JSON
// names (one vocabulary across Go, HTTP and GraphQL) but are kept apart
// from its JSON so that the schema says exactly what a client gets:
// AWSTimestamp and AWSDate formats, null for absent values, the rating's
// average, the derived age, review answers as a list.

// awsTimestamp is an AWSTimestamp: seconds since the Unix epoch, the
// tutorial's type for createdOn.
func awsTimestamp(t time.Time) int64 { return t.Unix() }

func awsDate(d babysitter.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type moneyView struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func money(m babysitter.Money) moneyView { return moneyView(m) }

type ratingView struct {
	Count   int64   `json:"count"`
	Sum     int64   `json:"sum"`
	Average float64 `json:"average"`
}

type userView struct {
	ID              string     `json:"id"`
	Username        string     `json:"username"`
	Email           *string    `json:"email"`
	Type            string     `json:"type"`
	Status          string     `json:"status"`
	FirstName       string     `json:"firstName"`
	LastName        string     `json:"lastName"`
	DateOfBirth     *string    `json:"dateOfBirth"`
	Age             *int       `json:"age"`
	Gender          *string    `json:"gender"`
	ProfilePicURL   *string    `json:"profilePicUrl"`
	Address         *string    `json:"address"`
	About           *string    `json:"about"`
	Latitude        *float64   `json:"latitude"`
	Longitude       *float64   `json:"longitude"`
	PhoneNumber     *string    `json:"phoneNumber"`
	SpokenLanguages []string   `json:"spokenLanguages"`
	Nationality     *string    `json:"nationality"`
	RegionOfOrigin  *string    `json:"regionOfOrigin"`
	HourlyRate      *moneyView `json:"hourlyRate"`
	EducationLevel  *string    `json:"educationLevel"`
	Smokes          *bool      `json:"smokes"`
	Drinks          *bool      `json:"drinks"`
	Disabilities    *string    `json:"disabilities"`
	Activities      []string   `json:"activities"`
	Rating          ratingView `json:"rating"`
	CreatedOn       int64      `json:"createdOn"`
	UpdatedOn       int64      `json:"updatedOn"`
	// Private: null unless the caller is the user or an admin (the
	// Service leaves them out of a public profile).
	Documents    []uploadView      `json:"documents"`
	Verification *verificationView `json:"verification"`
}

func user(u babysitter.User, now time.Time) userView {
	v := userView{
		ID:              u.ID,
		Username:        u.Username,
		Email:           optString(u.Email),
		Type:            string(u.Type),
		Status:          string(u.Status),
		FirstName:       u.FirstName,
		LastName:        u.LastName,
		DateOfBirth:     awsDate(u.DateOfBirth),
		Gender:          optString(u.Gender),
		ProfilePicURL:   optString(u.ProfilePicURL),
		Address:         optString(u.Address),
		About:           optString(u.About),
		Latitude:        u.Latitude,
		Longitude:       u.Longitude,
		PhoneNumber:     optString(u.PhoneNumber),
		SpokenLanguages: u.SpokenLanguages,
		Nationality:     optString(u.Nationality),
		RegionOfOrigin:  optString(u.RegionOfOrigin),
		EducationLevel:  optString(u.EducationLevel),
		Smokes:          u.Smokes,
		Drinks:          u.Drinks,
		Disabilities:    optString(u.Disabilities),
		Activities:      u.Activities,
		Rating:          ratingView{Count: u.Rating.Count, Sum: u.Rating.Sum, Average: u.Rating.Average()},
		CreatedOn:       awsTimestamp(u.CreatedOn),
		UpdatedOn:       awsTimestamp(u.UpdatedOn),
	}
	if !u.DateOfBirth.IsZero() {
		age := u.Age(now)
		v.Age = &age
	}
	if u.HourlyRate != nil {
		m := money(*u.HourlyRate)
		v.HourlyRate = &m
	}
	for _, d := range u.Documents {
		v.Documents = append(v.Documents, upload(d))
	}
	if x := u.Verification; x != nil {
		v.Verification = &verificationView{By: x.By, At: awsTimestamp(x.At), UploadID: optString(x.UploadID)}
	}
	return v
}

type uploadView struct {
	UploadID      string `json:"uploadId"`
	Kind          string `json:"kind"`
	ContentType   string `json:"contentType"`
	ContentLength int64  `json:"contentLength"`
	RequestedOn   int64  `json:"requestedOn"`
	UploadedOn    *int64 `json:"uploadedOn"`
}

func upload(u babysitter.Upload) uploadView {
	v := uploadView{UploadID: u.ID, Kind: string(u.Kind), ContentType: u.ContentType, ContentLength: u.Size, RequestedOn: awsTimestamp(u.RequestedOn)}
	if !u.UploadedOn.IsZero() {
		at := awsTimestamp(u.UploadedOn)
		v.UploadedOn = &at
	}
	return v
}

type verificationView struct {
	By       string  `json:"by"`
	At       int64   `json:"at"`
	UploadID *string `json:"uploadId"`
}

// headerView is one header of a presigned request: GraphQL has no maps.
type headerView struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type presignedView struct {
	Method  string       `json:"method"`
	URL     string       `json:"url"`
	Headers []headerView `json:"headers"`
	Expires int64        `json:"expires"`
}

// presigned is a presigned request, its headers sorted by name.
func presigned(pr babysitter.PresignedRequest) presignedView {
	v := presignedView{Method: pr.Method, URL: pr.URL, Headers: []headerView{}, Expires: awsTimestamp(pr.Expires)}
	for _, name := range slices.Sorted(maps.Keys(pr.Headers)) {
		v.Headers = append(v.Headers, headerView{Name: name, Value: pr.Headers[name]})
	}
	return v
}

type uploadTicketView struct {
	Upload  uploadView    `json:"upload"`
	Request presignedView `json:"request"`
}

type jobView struct {
	ID                    string    `json:"id"`
	ParentUsername        string    `json:"username"`
	JobType               string    `json:"jobType"`
	Description           *string   `json:"description"`
	NumberOfKids          int       `json:"numberOfKids"`
	StartDate             string    `json:"startDate"`
	EndDate               string    `json:"endDate"`
	StartTime             string    `json:"startTime"`
	EndTime               string    `json:"endTime"`
	Address               string    `json:"address"`
	City                  string    `json:"city"`
	Latitude              float64   `json:"latitude"`
	Longitude             float64   `json:"longitude"`
	Cost                  moneyView `json:"cost"`
	Status                string    `json:"jobStatus"`
	AcceptedApplicationID *string   `json:"acceptedApplicationId"`
	AcceptedNanny         *string   `json:"acceptedNanny"`
	CreatedOn             int64     `json:"createdOn"`
	UpdatedOn             int64     `json:"updatedOn"`
}

func job(j babysitter.Job) jobView {
	return jobView{
		ID:                    j.ID,
		ParentUsername:        j.ParentUsername,
		JobType:               string(j.JobType),
		Description:           optString(j.Description),
		NumberOfKids:          j.NumberOfKids,
		StartDate:             j.StartDate.String(),
		EndDate:               j.EndDate.String(),
		StartTime:             j.StartTime.String(),
		EndTime:               j.EndTime.String(),
		Address:               j.Address,
		City:                  j.City,
		Latitude:              j.Latitude,
		Longitude:             j.Longitude,
		Cost:                  money(j.Cost),
		Status:                string(j.Status),
		AcceptedApplicationID: optString(j.AcceptedApplicationID),
		AcceptedNanny:         optString(j.AcceptedNanny),
		CreatedOn:             awsTimestamp(j.CreatedOn),
		UpdatedOn:             awsTimestamp(j.UpdatedOn),
	}
}

type applicationView struct {
	ID            string  `json:"id"`
	JobID         string  `json:"jobId"`
	NannyUsername string  `json:"username"`
	Message       *string `json:"message"`
	Status        string  `json:"jobApplicationStatus"`
	CreatedOn     int64   `json:"createdOn"`
	UpdatedOn     int64   `json:"updatedOn"`
}

func application(a babysitter.Application) applicationView {
	return applicationView{
		ID:            a.ID,
		JobID:         a.JobID,
		NannyUsername: a.NannyUsername,
		Message:       optString(a.Message),
		Status:        string(a.Status),
		CreatedOn:     awsTimestamp(a.CreatedOn),
		UpdatedOn:     awsTimestamp(a.UpdatedOn),
	}
}

// nearbyJobView is NearbyJob: a job and its distance from the point.
type nearbyJobView struct {
	Job        jobView `json:"job"`
	DistanceKm float64 `json:"distanceKm"`
}

func nearbyJob(n babysitter.NearbyJob) nearbyJobView {
	return nearbyJobView{Job: job(n.Job), DistanceKm: n.DistanceKm}
}

// reviewAnswerView is ReviewAnswer: the library's answers map as a list
// of pairs, GraphQL having no maps.
type reviewAnswerView struct {
	Question string `json:"question"`
	Answer   bool   `json:"answer"`
}

type reviewView struct {
	ID        string             `json:"id"`
	JobID     string             `json:"jobId"`
	Direction string             `json:"direction"`
	Reviewer  string             `json:"reviewer"`
	Reviewee  string             `json:"reviewee"`
	Rating    int                `json:"rating"`
	Text      *string            `json:"text"`
	Answers   []reviewAnswerView `json:"answers"`
	CreatedOn int64              `json:"createdOn"`
}

// review lists the answers in the order of the direction's questionnaire
// (babysitter.Questions), then any others sorted, so that the list is
// stable.
func review(r babysitter.Review) reviewView {
	answers := make([]reviewAnswerView, 0, len(r.Answers))
	qs := babysitter.Questions(r.Direction)
	for _, q := range qs {
		if a, ok := r.Answers[q]; ok {
			answers = append(answers, reviewAnswerView{q, a})
		}
	}
	var rest []string
	for q := range r.Answers {
		if !slices.Contains(qs, q) {
			rest = append(rest, q)
		}
	}
	slices.Sort(rest)
	for _, q := range rest {
		answers = append(answers, reviewAnswerView{q, r.Answers[q]})
	}
	return reviewView{
		ID:        r.ID,
		JobID:     r.JobID,
		Direction: string(r.Direction),
		Reviewer:  r.Reviewer,
		Reviewee:  r.Reviewee,
		Rating:    r.Rating,
		Text:      optString(r.Text),
		Answers:   answers,
		CreatedOn: awsTimestamp(r.CreatedOn),
	}
}

// connection is every *Connection type of the schema: one page of a list.
type connection[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func page[T, V any](p babysitter.Page[T], view func(T) V) connection[V] {
	c := connection[V]{Items: make([]V, len(p.Items)), NextCursor: optString(p.NextCursor)}
	for i, it := range p.Items {
		c.Items[i] = view(it)
	}
	return c
}

type parentJobsView struct {
	Parent userView            `json:"parent"`
	Jobs   connection[jobView] `json:"jobs"`
}

type jobApplicationsView struct {
	Job          jobView                     `json:"job"`
	Applications connection[applicationView] `json:"applications"`
}

type nannyApplicationsView struct {
	Nanny        userView                    `json:"nanny"`
	Applications connection[applicationView] `json:"applications"`
}

type bookingView struct {
	Job            jobView         `json:"job"`
	Application    applicationView `json:"application"`
	DeclinesQueued int             `json:"declinesQueued"`
}

type reconcileView struct {
	JobID          string `json:"jobId"`
	DeclinesQueued int    `json:"declinesQueued"`
}
