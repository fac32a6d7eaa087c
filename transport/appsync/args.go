package appsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/babysitter-go/babysitter"
)

// decodeArgs decodes a field's arguments into v. AppSync has validated them
// against the schema already, so a failure here means the schema and the
// router disagree (or someone invoked the function directly); it is still
// the caller's bad input, reported per field.
func decodeArgs(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return fieldsErr(babysitter.FieldError{Field: typeErr.Field, Message: fmt.Sprintf("must be a %s", typeErr.Type.Kind())})
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return fieldsErr(babysitter.FieldError{Field: "arguments", Message: msg})
}

func fieldsErr(fe ...babysitter.FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return &babysitter.InvalidInputError{Fields: fe}
}

// parser collects the field errors of converting GraphQL scalars (AWSDate,
// "HH:MM" times) into the library's types.
type parser struct{ fe []babysitter.FieldError }

func (p *parser) add(field, msg string) {
	p.fe = append(p.fe, babysitter.FieldError{Field: field, Message: msg})
}

func (p *parser) err() error { return fieldsErr(p.fe...) }

// date parses an AWSDate. AWSDate may carry a zone offset ("1990-04-01Z",
// "1990-04-01+02:00"); a calendar date has none, so it is dropped.
func (p *parser) date(field string, s *string) *babysitter.Date {
	if s == nil {
		return nil
	}
	v := *s
	if len(v) > 10 {
		if rest := v[10:]; rest == "Z" || (len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
			v = v[:10]
		}
	}
	d, err := babysitter.ParseDate(v)
	if err != nil {
		p.add(field, "must be a date as YYYY-MM-DD")
		return nil
	}
	return &d
}

// time parses "HH:MM"; AWSTime's "HH:MM:SS" is accepted when the seconds
// are zero.
func (p *parser) time(field string, s *string) *babysitter.TimeOfDay {
	if s == nil {
		return nil
	}
	v := strings.TrimSuffix(*s, "Z")
	if len(v) == 8 && strings.HasSuffix(v, ":00") {
		v = v[:5]
	}
	t, err := babysitter.ParseTimeOfDay(v)
	if err != nil {
		p.add(field, "must be a time as HH:MM (24-hour)")
		return nil
	}
	return &t
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// pageArgs are the limit and cursor of every list field.
type pageArgs struct {
	Limit  *int    `json:"limit"`
	Cursor *string `json:"cursor"`
}

func (a pageArgs) request() babysitter.PageRequest {
	return babysitter.PageRequest{Limit: deref(a.Limit), Cursor: deref(a.Cursor)}
}

// profileInput is the profile part of CreateUserInput.
type profileInput struct {
	FirstName       string            `json:"firstName"`
	LastName        string            `json:"lastName"`
	DateOfBirth     *string           `json:"dateOfBirth"`
	Gender          *string           `json:"gender"`
	Address         *string           `json:"address"`
	About           *string           `json:"about"`
	Latitude        *float64          `json:"latitude"`
	Longitude       *float64          `json:"longitude"`
	PhoneNumber     *string           `json:"phoneNumber"`
	SpokenLanguages []string          `json:"spokenLanguages"`
	Nationality     *string           `json:"nationality"`
	RegionOfOrigin  *string           `json:"regionOfOrigin"`
	HourlyRate      *babysitter.Money `json:"hourlyRate"`
	EducationLevel  *string           `json:"educationLevel"`
	Smokes          *bool             `json:"smokes"`
	Drinks          *bool             `json:"drinks"`
	Disabilities    *string           `json:"disabilities"`
	Activities      []string          `json:"activities"`
}

// createUserInput is CreateUserInput. username and type default to the
// caller's: the Cognito username and the account type of its group.
type createUserInput struct {
	Username *string `json:"username"`
	Email    string  `json:"email"`
	Type     *string `json:"type"`
	profileInput
}

func (in createUserInput) newUser(a babysitter.Actor) (babysitter.NewUser, error) {
	var p parser
	n := babysitter.NewUser{
		Username: deref(in.Username),
		Email:    in.Email,
		Type:     babysitter.UserType(deref(in.Type)),
		Profile: babysitter.Profile{
			FirstName:       in.FirstName,
			LastName:        in.LastName,
			Gender:          deref(in.Gender),
			Address:         deref(in.Address),
			About:           deref(in.About),
			Latitude:        in.Latitude,
			Longitude:       in.Longitude,
			PhoneNumber:     deref(in.PhoneNumber),
			SpokenLanguages: in.SpokenLanguages,
			Nationality:     deref(in.Nationality),
			RegionOfOrigin:  deref(in.RegionOfOrigin),
			HourlyRate:      in.HourlyRate,
			EducationLevel:  deref(in.EducationLevel),
			Smokes:          in.Smokes,
			Drinks:          in.Drinks,
			Disabilities:    deref(in.Disabilities),
			Activities:      in.Activities,
		},
	}
	if d := p.date("dateOfBirth", in.DateOfBirth); d != nil {
		n.DateOfBirth = *d
	}
	if n.Username == "" {
		n.Username = a.Username
	}
	if n.Type == "" {
		switch a.Role {
		case babysitter.RoleParent:
			n.Type = babysitter.UserParent
		case babysitter.RoleNanny:
			n.Type = babysitter.UserNanny
		}
	}
	return n, p.err()
}

// updateUserInput is UpdateUserInput: the user to change, and the fields
// to change — absent or null fields stay as they are; a list replaces the
// stored one (an empty list clears it).
type updateUserInput struct {
	Username        string            `json:"username"`
	Email           *string           `json:"email"`
	FirstName       *string           `json:"firstName"`
	LastName        *string           `json:"lastName"`
	DateOfBirth     *string           `json:"dateOfBirth"`
	Gender          *string           `json:"gender"`
	Address         *string           `json:"address"`
	About           *string           `json:"about"`
	Latitude        *float64          `json:"latitude"`
	Longitude       *float64          `json:"longitude"`
	PhoneNumber     *string           `json:"phoneNumber"`
	SpokenLanguages *[]string         `json:"spokenLanguages"`
	Nationality     *string           `json:"nationality"`
	RegionOfOrigin  *string           `json:"regionOfOrigin"`
	HourlyRate      *babysitter.Money `json:"hourlyRate"`
	EducationLevel  *string           `json:"educationLevel"`
	Smokes          *bool             `json:"smokes"`
	Drinks          *bool             `json:"drinks"`
	Disabilities    *string           `json:"disabilities"`
	Activities      *[]string         `json:"activities"`
}

func (in updateUserInput) patch() (babysitter.UserPatch, error) {
	var p parser
	patch := babysitter.UserPatch{
		Email:           in.Email,
		FirstName:       in.FirstName,
		LastName:        in.LastName,
		DateOfBirth:     p.date("dateOfBirth", in.DateOfBirth),
		Gender:          in.Gender,
		Address:         in.Address,
		About:           in.About,
		Latitude:        in.Latitude,
		Longitude:       in.Longitude,
		PhoneNumber:     in.PhoneNumber,
		SpokenLanguages: in.SpokenLanguages,
		Nationality:     in.Nationality,
		RegionOfOrigin:  in.RegionOfOrigin,
		HourlyRate:      in.HourlyRate,
		EducationLevel:  in.EducationLevel,
		Smokes:          in.Smokes,
		Drinks:          in.Drinks,
		Disabilities:    in.Disabilities,
		Activities:      in.Activities,
	}
	return patch, p.err()
}

// jobInput is CreateJobInput and UpdateJobInput: the schema makes fields
// required for creation; absent fields of an update stay as they are.
type jobInput struct {
	JobType      *string           `json:"jobType"`
	Description  *string           `json:"description"`
	NumberOfKids *int              `json:"numberOfKids"`
	StartDate    *string           `json:"startDate"`
	EndDate      *string           `json:"endDate"`
	StartTime    *string           `json:"startTime"`
	EndTime      *string           `json:"endTime"`
	Address      *string           `json:"address"`
	City         *string           `json:"city"`
	Latitude     *float64          `json:"latitude"`
	Longitude    *float64          `json:"longitude"`
	Cost         *babysitter.Money `json:"cost"`
}

func (in jobInput) patch() (babysitter.JobPatch, error) {
	var p parser
	patch := babysitter.JobPatch{
		Description:  in.Description,
		NumberOfKids: in.NumberOfKids,
		StartDate:    p.date("startDate", in.StartDate),
		EndDate:      p.date("endDate", in.EndDate),
		StartTime:    p.time("startTime", in.StartTime),
		EndTime:      p.time("endTime", in.EndTime),
		Address:      in.Address,
		City:         in.City,
		Latitude:     in.Latitude,
		Longitude:    in.Longitude,
		Cost:         in.Cost,
	}
	if in.JobType != nil {
		t := babysitter.JobType(*in.JobType)
		patch.JobType = &t
	}
	return patch, p.err()
}

// details applies the input to empty details: what CreateJob validates.
func (in jobInput) details() (babysitter.JobDetails, error) {
	patch, err := in.patch()
	var d babysitter.JobDetails
	d.StartTime, d.EndTime = -1, -1 // a missing time is invalid, not midnight
	patch.ApplyTo(&d)
	return d, err
}

// reviewAnswerInput is ReviewAnswerInput: one answer of the questionnaire.
type reviewAnswerInput struct {
	Question string `json:"question"`
	Answer   bool   `json:"answer"`
}

// leaveReviewInput is LeaveReviewInput. The answers come as a list of
// question/answer pairs (GraphQL has no maps); the library takes a map, so
// a question answered twice — which a map cannot express — is refused here.
// Which questions are asked is the library's to check.
type leaveReviewInput struct {
	Rating  *int                `json:"rating"`
	Text    *string             `json:"text"`
	Answers []reviewAnswerInput `json:"answers"`
}

func (in leaveReviewInput) newReview() (babysitter.NewReview, error) {
	var p parser
	r := babysitter.NewReview{Rating: deref(in.Rating), Text: deref(in.Text), Answers: make(map[string]bool, len(in.Answers))}
	for _, a := range in.Answers {
		if _, dup := r.Answers[a.Question]; dup {
			p.add("answers."+a.Question, "is answered more than once")
			continue
		}
		r.Answers[a.Question] = a.Answer
	}
	return r, p.err()
}
