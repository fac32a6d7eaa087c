package dynamodb

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// The stored shape of every item type is defined here and nowhere else:
// the item structs below, their dynamodbav tags naming the attributes
// (the key attributes are in keys.go). They are a contract with every
// table already deployed, separate from the root package's JSON names,
// which this package never reads. testdata/items pins each item type's
// shape. See the package documentation's "Items" section.

// schemaVersion is the newest version of the item format this build reads
// and writes, in every item's attribute v (attrSchema). Version 0 is an
// item without v, written before items had a version; it has the
// attributes of version 1. An item is written at the oldest version its
// attributes need (baseSchema unless it holds what version 2 added: see
// userItem.version). The versions, and how to add one: the package
// documentation, "Items".
const schemaVersion = 2

// baseSchema is the version of an item that holds nothing newer: version
// 1, which builds from before version 2 read.
const baseSchema = 1

// attrSchema is the attribute that holds an item's schema version.
const attrSchema = "v"

// ErrNewerSchema is the cause (inside a *DecodeError) of reading an item
// whose schema version is newer than this build reads: a newer build
// wrote it. Deploy a build that reads that version.
var ErrNewerSchema = errors.New("item schema version newer than this build reads")

// Attribute names used in expressions: the dynamodbav names of the item
// structs' fields; TestAttributeNames checks they are on the items.
const (
	attrUsername      = "username"             // userItem, jobItem (the parent), applicationItem (the nanny), the markers, emailItem, tombstoneItem
	attrEmail         = "email"                // userItem
	attrUserStatus    = "status"               // userItem
	attrUserType      = "type"                 // userItem
	attrSubject       = "subject"              // userItem
	attrJobStatus     = "jobStatus"            // jobItem
	attrAppStatus     = "jobApplicationStatus" // applicationItem
	attrAccepted      = "acceptedApplicationId"
	attrAcceptedNanny = "acceptedNanny"
	attrUpdatedOn     = "updatedOn"
	attrVersion       = "version" // optimistic concurrency (users, jobs), not the schema version
	// attrOpenJobs counts a parent's OPEN jobs on the user item, kept in
	// the same transactions as the changes it counts: DeleteUser's rule.
	attrOpenJobs = "openJobs"
	// attrRatingCount and attrRatingSum are User.Rating (Count, Sum), kept
	// as top-level numbers rather than a map, so that CreateReview adds to
	// them with ADD, which needs no existing attribute and no nested
	// document path.
	attrRatingCount = "ratingCount"
	attrRatingSum   = "ratingSum"
)

// moneyItem is babysitter.Money as stored.
type moneyItem struct {
	Amount   int64  `dynamodbav:"amount"`
	Currency string `dynamodbav:"currency"`
}

// profileItem is babysitter.Profile as stored, on user items: the
// attributes UpdateUser writes (profileAttrs).
type profileItem struct {
	FirstName       string          `dynamodbav:"firstName"`
	LastName        string          `dynamodbav:"lastName"`
	DateOfBirth     babysitter.Date `dynamodbav:"dateOfBirth"`
	Gender          string          `dynamodbav:"gender,omitempty"`
	Address         string          `dynamodbav:"address,omitempty"`
	About           string          `dynamodbav:"about,omitempty"`
	Latitude        *float64        `dynamodbav:"latitude,omitempty"`
	Longitude       *float64        `dynamodbav:"longitude,omitempty"`
	PhoneNumber     string          `dynamodbav:"phoneNumber,omitempty"`
	SpokenLanguages []string        `dynamodbav:"spokenLanguages,omitempty"`
	Nationality     string          `dynamodbav:"nationality,omitempty"`
	RegionOfOrigin  string          `dynamodbav:"regionOfOrigin,omitempty"`
	HourlyRate      *moneyItem      `dynamodbav:"hourlyRate,omitempty"`
	EducationLevel  string          `dynamodbav:"educationLevel,omitempty"`
	Smokes          *bool           `dynamodbav:"smokes,omitempty"`
	Drinks          *bool           `dynamodbav:"drinks,omitempty"`
	Disabilities    string          `dynamodbav:"disabilities,omitempty"`
	Activities      []string        `dynamodbav:"activities,omitempty"`
}

// ratingItem is the map a version-0 user item may hold the rating in.
type ratingItem struct {
	Count int64 `dynamodbav:"count"`
	Sum   int64 `dynamodbav:"sum"`
}

// userItem is a user's item (with userKeys).
type userItem struct {
	ID       string                   `dynamodbav:"id"`
	Username string                   `dynamodbav:"username"`
	Email    string                   `dynamodbav:"email,omitempty"`
	Type     babysitter.UserType      `dynamodbav:"type"`
	Status   babysitter.AccountStatus `dynamodbav:"status"`
	profileItem
	// ProfilePicURL is set from the picture upload, never by UpdateUser:
	// it is not in profileItem, whose attributes UpdateUser writes.
	ProfilePicURL string `dynamodbav:"profilePicUrl,omitempty"`
	// RatingCount and RatingSum are pointers to tell a version-0 item
	// without them (its rating is in LegacyRating) from zero.
	RatingCount *int64 `dynamodbav:"ratingCount"`
	RatingSum   *int64 `dynamodbav:"ratingSum"`
	// LegacyRating is only read: version-0 items written before
	// ratingCount and ratingSum hold the rating in this map.
	LegacyRating *ratingItem `dynamodbav:"rating,omitempty"`
	CreatedOn    time.Time   `dynamodbav:"createdOn"`
	UpdatedOn    time.Time   `dynamodbav:"updatedOn"`
	Version      int64       `dynamodbav:"version"`
	// OpenJobs is attrOpenJobs, 0 when the user is created; ADD changes it.
	OpenJobs int64 `dynamodbav:"openJobs"`

	// Version 2: the account's uploads and verification record. An item
	// with any of them is written as version 2 (userItem.version).

	// Uploads are every object of the account by upload ID, each in a
	// state (uploadItem.State): requested, a confirmed document or
	// picture, discarded.
	Uploads map[string]uploadItem `dynamodbav:"uploads,omitempty"`
	// UploadsVersion is babysitter.UserUploads.Version, the condition of
	// UpdateUploads' writes (absent while 0).
	UploadsVersion int64 `dynamodbav:"uploadsVersion,omitempty"`
	// Verification is babysitter.Verification.
	Verification *verificationItem `dynamodbav:"verification,omitempty"`
	// Subject is babysitter.User.Subject, written by CreateUser and never
	// changed; absent when the account is bound to none.
	Subject string `dynamodbav:"subject,omitempty"`
}

// The states of an upload (uploadItem.State).
const (
	uploadRequested = "requested"
	uploadConfirmed = "confirmed"
	uploadDiscarded = "discarded"
)

// uploadItem is one babysitter.Upload of a user's, under its ID in the
// user item's map uploads.
type uploadItem struct {
	Kind        babysitter.UploadKind `dynamodbav:"kind"`
	State       string                `dynamodbav:"state"`
	ContentType string                `dynamodbav:"contentType"`
	Size        int64                 `dynamodbav:"size"`
	RequestedOn time.Time             `dynamodbav:"requestedOn"`
	UploadedOn  *time.Time            `dynamodbav:"uploadedOn,omitempty"`
}

// verificationItem is babysitter.Verification as stored.
type verificationItem struct {
	By       string    `dynamodbav:"by"`
	At       time.Time `dynamodbav:"at"`
	UploadID string    `dynamodbav:"uploadId,omitempty"`
}

// version is the schema version the item is written at: 2 when it holds
// what version 2 added, else baseSchema, so that a build from before
// version 2 reads it as before — and refuses, rather than mishandles, an
// account with uploads or a verification record (see doc.go, "Items").
func (i userItem) version() int {
	if len(i.Uploads) > 0 || i.UploadsVersion != 0 || i.Verification != nil || i.Subject != "" {
		return 2
	}
	return baseSchema
}

// jobDetailsItem is babysitter.JobDetails as stored, on job items: the
// attributes UpdateJob writes (jobDetailsAttrs).
type jobDetailsItem struct {
	JobType      babysitter.JobType   `dynamodbav:"jobType"`
	Description  string               `dynamodbav:"description"`
	NumberOfKids int                  `dynamodbav:"numberOfKids"`
	StartDate    babysitter.Date      `dynamodbav:"startDate"`
	EndDate      babysitter.Date      `dynamodbav:"endDate"`
	StartTime    babysitter.TimeOfDay `dynamodbav:"startTime"`
	EndTime      babysitter.TimeOfDay `dynamodbav:"endTime"`
	Address      string               `dynamodbav:"address"`
	City         string               `dynamodbav:"city"`
	Latitude     float64              `dynamodbav:"latitude"`
	Longitude    float64              `dynamodbav:"longitude"`
	Cost         moneyItem            `dynamodbav:"cost"`
}

// jobItem is a job's item (with jobKeys, and geoKeys while OPEN).
type jobItem struct {
	ID             string `dynamodbav:"id"`
	ParentUsername string `dynamodbav:"username"`
	jobDetailsItem
	Status                babysitter.JobStatus `dynamodbav:"jobStatus"`
	AcceptedApplicationID string               `dynamodbav:"acceptedApplicationId,omitempty"`
	AcceptedNanny         string               `dynamodbav:"acceptedNanny,omitempty"`
	CreatedOn             time.Time            `dynamodbav:"createdOn"`
	UpdatedOn             time.Time            `dynamodbav:"updatedOn"`
	Version               int64                `dynamodbav:"version"`
}

// applicationItem is an application's item (with applicationKeys).
type applicationItem struct {
	ID            string                       `dynamodbav:"id"`
	JobID         string                       `dynamodbav:"jobId"`
	NannyUsername string                       `dynamodbav:"username"`
	Message       string                       `dynamodbav:"message,omitempty"`
	Status        babysitter.ApplicationStatus `dynamodbav:"jobApplicationStatus"`
	CreatedOn     time.Time                    `dynamodbav:"createdOn"`
	UpdatedOn     time.Time                    `dynamodbav:"updatedOn"`
}

// reviewItem is a review's item, in the reviewee's partition
// (reviewItemKey).
type reviewItem struct {
	ID        string                     `dynamodbav:"id"`
	JobID     string                     `dynamodbav:"jobId"`
	Direction babysitter.ReviewDirection `dynamodbav:"direction"`
	Reviewer  string                     `dynamodbav:"reviewer"`
	Reviewee  string                     `dynamodbav:"reviewee"`
	Rating    int                        `dynamodbav:"rating"`
	Text      string                     `dynamodbav:"text,omitempty"`
	Answers   map[string]bool            `dynamodbav:"answers"`
	CreatedOn time.Time                  `dynamodbav:"createdOn"`
}

// emailItem reserves a (normalized) email for a user (emailItemKey).
type emailItem struct {
	Username string `dynamodbav:"username"`
}

// applicantItem says a nanny applied to a job (applicantItemKey): "one
// application per nanny per job" is its put-if-absent.
type applicantItem struct {
	ApplicationID string `dynamodbav:"applicationId"`
	Username      string `dynamodbav:"username"` // the nanny
}

// reviewMarkerItem says a job has its review in a direction
// (reviewMarkerKey): "one review per job per direction" is its
// put-if-absent.
type reviewMarkerItem struct {
	ReviewID string `dynamodbav:"reviewId"`
	Username string `dynamodbav:"username"` // the reviewer
}

// tombstoneItem keeps a deleted username from being registered again
// (tombstoneItemKey): the username and when it was deleted, nothing else.
type tombstoneItem struct {
	Username  string    `dynamodbav:"username"`
	DeletedOn time.Time `dynamodbav:"deletedOn"`
}

var (
	encoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) {
		o.UseEncodingMarshalers = true // Date, TimeOfDay as text
	})
	decoder = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) {
		o.UseEncodingUnmarshalers = true
	})
)

// profileAttrs and jobDetailsAttrs are the attributes UpdateUser and
// UpdateJob may write: the fields of profileItem and jobDetailsItem.
var (
	profileAttrs    = attrNames(reflect.TypeFor[profileItem]())
	jobDetailsAttrs = attrNames(reflect.TypeFor[jobDetailsItem]())
)

// attrNames are the attribute names of an item struct's fields.
func attrNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("dynamodbav"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// marshal encodes an item struct (or part of one) as attributes.
func marshal(v any) (map[string]types.AttributeValue, error) {
	av, err := encoder.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: encode %T: %w", v, err)
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("dynamodb: encode %T: not a map", v)
	}
	return m.Value, nil
}

// encodeItem is an item: the attributes of v, an item struct, its schema
// version (baseSchema, unless v says otherwise: versioned) and the key
// attributes.
func encodeItem(v any, keys map[string]string) (map[string]types.AttributeValue, error) {
	item, err := marshal(v)
	if err != nil {
		return nil, err
	}
	version := baseSchema
	if vi, ok := v.(versioned); ok {
		version = vi.version()
	}
	item[attrSchema] = number(int64(version))
	return withKeys(item, keys), nil
}

// versioned is an item struct whose schema version depends on what it
// holds.
type versioned interface{ version() int }

func withKeys(item map[string]types.AttributeValue, keys map[string]string) map[string]types.AttributeValue {
	for k, v := range keys {
		item[k] = &types.AttributeValueMemberS{Value: v}
	}
	return item
}

// keyStrings is a primary key (tableKey) as strings, for encodeItem.
func keyStrings(key map[string]types.AttributeValue) map[string]string {
	return map[string]string{attrPK: str(key, attrPK), attrSK: str(key, attrSK)}
}

func encodeUser(u babysitter.User) (map[string]types.AttributeValue, error) {
	return encodeItem(userItemOf(u), userKeys(u.Username, u.Type))
}

// encodeJob is a job's item; an OPEN job also carries the byCell index keys.
func encodeJob(j babysitter.Job) (map[string]types.AttributeValue, error) {
	keys := jobKeys(j.ID, j.ParentUsername, j.Status)
	if j.Status == babysitter.JobOpen {
		for k, v := range geoKeys(j.ID, j.Latitude, j.Longitude) {
			keys[k] = v
		}
	}
	return encodeItem(jobItemOf(j), keys)
}

func encodeApplication(a babysitter.Application) (map[string]types.AttributeValue, error) {
	return encodeItem(applicationItemOf(a), applicationKeys(a.JobID, a.ID, a.NannyUsername))
}

func encodeReview(r babysitter.Review) (map[string]types.AttributeValue, error) {
	return encodeItem(reviewItemOf(r), keyStrings(reviewItemKey(r.Reviewee, r.ID)))
}

// encodeEmail is the reservation of a (normalized) email by a user.
func encodeEmail(email, username string) (map[string]types.AttributeValue, error) {
	return encodeItem(emailItem{Username: username}, keyStrings(emailItemKey(email)))
}

// encodeApplicant is the marker that a.NannyUsername applied to a.JobID.
func encodeApplicant(a babysitter.Application) (map[string]types.AttributeValue, error) {
	return encodeItem(applicantItem{ApplicationID: a.ID, Username: a.NannyUsername}, keyStrings(applicantItemKey(a.JobID, a.NannyUsername)))
}

// encodeReviewMarker is the marker that job r.JobID has its review in
// r.Direction: r's ID and its reviewer.
func encodeReviewMarker(r babysitter.Review) (map[string]types.AttributeValue, error) {
	return encodeItem(reviewMarkerItem{ReviewID: r.ID, Username: r.Reviewer}, keyStrings(reviewMarkerKey(r.JobID, r.Direction)))
}

// encodeTombstone is a deleted username's tombstone.
func encodeTombstone(username string, deletedOn time.Time) (map[string]types.AttributeValue, error) {
	return encodeItem(tombstoneItem{Username: username, DeletedOn: deletedOn}, keyStrings(tombstoneItemKey(username)))
}

// DecodeError is returned when a stored item cannot be read as the domain
// type its key says it is: the table holds data this version does not
// understand (a newer schema version: ErrNewerSchema), or corrupt data. It
// is not one of the domain error kinds.
type DecodeError struct {
	// Key is the item's "PK / SK".
	Key string
	// Type is the type it was read as, e.g. "babysitter.User".
	Type string
	Err  error
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("dynamodb: item %s is not a valid %s: %v", e.Key, e.Type, e.Err)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *DecodeError) Unwrap() error { return e.Err }

// itemVersion is an item's schema version: its attribute v, or 0 when it
// has none (written before items had one).
func itemVersion(item map[string]types.AttributeValue) (int, error) {
	av, ok := item[attrSchema]
	if !ok {
		return 0, nil
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("schema version %s is %T, not a number", attrSchema, av)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("schema version %s = %q is not a version", attrSchema, n.Value)
	}
	return v, nil
}

// decodeItem reads an item of any schema version this build knows into
// the item struct T (what names the domain type, for errors); it never
// panics on bad data.
func decodeItem[T any](item map[string]types.AttributeValue, what string) (v T, err error) {
	fail := func(err error) (T, error) {
		return v, &DecodeError{Key: itemName(item), Type: what, Err: err}
	}
	version, err := itemVersion(item)
	if err != nil {
		return fail(err)
	}
	switch version {
	case 0, 1, 2:
		// Version 0 has the attributes of version 1, and version 2 adds
		// optional ones: one decoding for all three. A new version gets its
		// case here, reading its own shape into T.
	default:
		return fail(fmt.Errorf("%w: %s = %d, this build reads 0 to %d", ErrNewerSchema, attrSchema, version, schemaVersion))
	}
	defer func() {
		if r := recover(); r != nil { // the decoder is reflection-heavy; belt and braces
			v, err = fail(fmt.Errorf("panic: %v", r))
		}
	}()
	if err := decoder.Decode(&types.AttributeValueMemberM{Value: item}, &v); err != nil {
		return fail(err)
	}
	return v, nil
}

// domainItem is an item struct read as the domain value T.
type domainItem[T any] interface {
	// value is the domain value the item holds.
	value() T
	// missing names the required attributes the item lacks, "" for none.
	missing() string
}

// decodeValue reads an item as the item struct I, then as I's domain
// value T.
func decodeValue[I domainItem[T], T any](item map[string]types.AttributeValue) (T, error) {
	var zero T
	what := fmt.Sprintf("%T", zero)
	i, err := decodeItem[I](item, what)
	if err != nil {
		return zero, err
	}
	if m := i.missing(); m != "" {
		return zero, &DecodeError{Key: itemName(item), Type: what, Err: fmt.Errorf("no %s", m)}
	}
	return i.value(), nil
}

func decodeUser(item map[string]types.AttributeValue) (babysitter.User, error) {
	return decodeValue[userItem](item)
}

func decodeJob(item map[string]types.AttributeValue) (babysitter.Job, error) {
	return decodeValue[jobItem](item)
}

func decodeApplication(item map[string]types.AttributeValue) (babysitter.Application, error) {
	return decodeValue[applicationItem](item)
}

func decodeReview(item map[string]types.AttributeValue) (babysitter.Review, error) {
	return decodeValue[reviewItem](item)
}

func (i userItem) missing() string { return missingIf(i.Username == "", attrUsername) }

func (i jobItem) missing() string { return missingIf(i.ID == "", "id") }

func (i applicationItem) missing() string {
	return missingIf(i.ID == "" || i.JobID == "", "id or jobId")
}

func (i reviewItem) missing() string { return missingIf(i.ID == "" || i.JobID == "", "id or jobId") }

func missingIf(missing bool, what string) string {
	if missing {
		return what
	}
	return ""
}

// ---- domain values ↔ item structs: every field, by hand ----

func moneyItemOf(m babysitter.Money) moneyItem {
	return moneyItem{Amount: m.Amount, Currency: m.Currency}
}

func (m moneyItem) money() babysitter.Money {
	return babysitter.Money{Amount: m.Amount, Currency: m.Currency}
}

func profileItemOf(p babysitter.Profile) profileItem {
	i := profileItem{
		FirstName: p.FirstName, LastName: p.LastName, DateOfBirth: p.DateOfBirth, Gender: p.Gender,
		Address: p.Address, About: p.About,
		Latitude: p.Latitude, Longitude: p.Longitude, PhoneNumber: p.PhoneNumber,
		SpokenLanguages: p.SpokenLanguages, Nationality: p.Nationality, RegionOfOrigin: p.RegionOfOrigin,
		EducationLevel: p.EducationLevel, Smokes: p.Smokes, Drinks: p.Drinks,
		Disabilities: p.Disabilities, Activities: p.Activities,
	}
	if p.HourlyRate != nil {
		m := moneyItemOf(*p.HourlyRate)
		i.HourlyRate = &m
	}
	return i
}

func (i profileItem) profile() babysitter.Profile {
	p := babysitter.Profile{
		FirstName: i.FirstName, LastName: i.LastName, DateOfBirth: i.DateOfBirth, Gender: i.Gender,
		Address: i.Address, About: i.About,
		Latitude: i.Latitude, Longitude: i.Longitude, PhoneNumber: i.PhoneNumber,
		SpokenLanguages: i.SpokenLanguages, Nationality: i.Nationality, RegionOfOrigin: i.RegionOfOrigin,
		EducationLevel: i.EducationLevel, Smokes: i.Smokes, Drinks: i.Drinks,
		Disabilities: i.Disabilities, Activities: i.Activities,
	}
	if i.HourlyRate != nil {
		m := i.HourlyRate.money()
		p.HourlyRate = &m
	}
	return p
}

func userItemOf(u babysitter.User) userItem {
	return userItem{
		ID: u.ID, Username: u.Username, Email: u.Email, Type: u.Type, Status: u.Status,
		profileItem: profileItemOf(u.Profile), ProfilePicURL: u.ProfilePicURL,
		RatingCount: &u.Rating.Count, RatingSum: &u.Rating.Sum,
		CreatedOn: u.CreatedOn, UpdatedOn: u.UpdatedOn, Version: u.Version, Subject: u.Subject,
		Uploads: uploadsItemOf(u), UploadsVersion: u.Uploads.Version, Verification: verificationItemOf(u.Verification),
	}
}

func (i userItem) value() babysitter.User {
	u := babysitter.User{
		ID: i.ID, Username: i.Username, Email: i.Email, Type: i.Type, Status: i.Status,
		Profile: i.profileItem.profile(), ProfilePicURL: i.ProfilePicURL,
		CreatedOn: i.CreatedOn, UpdatedOn: i.UpdatedOn, Version: i.Version, Subject: i.Subject,
		Verification: i.Verification.value(),
	}
	i.setUploads(&u)
	if i.LegacyRating != nil {
		u.Rating = babysitter.Rating{Count: i.LegacyRating.Count, Sum: i.LegacyRating.Sum}
	}
	if i.RatingCount != nil {
		u.Rating.Count = *i.RatingCount
	}
	if i.RatingSum != nil {
		u.Rating.Sum = *i.RatingSum
	}
	return u
}

// uploadsItemOf is the map uploads of a user: every upload by ID, in its
// state; nil for none.
func uploadsItemOf(u babysitter.User) map[string]uploadItem {
	var m map[string]uploadItem
	add := func(x babysitter.Upload, state string) {
		if m == nil {
			m = map[string]uploadItem{}
		}
		i := uploadItem{Kind: x.Kind, State: state, ContentType: x.ContentType, Size: x.Size, RequestedOn: x.RequestedOn}
		if !x.UploadedOn.IsZero() {
			at := x.UploadedOn
			i.UploadedOn = &at
		}
		m[x.ID] = i
	}
	for _, x := range u.Uploads.Requested {
		add(x, uploadRequested)
	}
	for _, x := range u.Documents {
		add(x, uploadConfirmed)
	}
	if p := u.Uploads.Picture; p != nil {
		add(*p, uploadConfirmed)
	}
	for _, x := range u.Uploads.Discarded {
		add(x, uploadDiscarded)
	}
	return m
}

// setUploads sets u's Documents and Uploads from the map uploads, in
// ApplyUploadChange's order. Of two confirmed pictures (which no write
// makes) the later one is the picture and the other discarded, so that no
// object is lost track of.
func (i userItem) setUploads(u *babysitter.User) {
	u.Uploads.Version = i.UploadsVersion
	for id, x := range i.Uploads {
		up := babysitter.Upload{ID: id, Kind: x.Kind, ContentType: x.ContentType, Size: x.Size, RequestedOn: x.RequestedOn}
		if x.UploadedOn != nil {
			up.UploadedOn = *x.UploadedOn
		}
		switch {
		case x.State == uploadRequested:
			u.Uploads.Requested = append(u.Uploads.Requested, up)
		case x.State == uploadConfirmed && x.Kind == babysitter.UploadDocument:
			u.Documents = append(u.Documents, up)
		case x.State == uploadConfirmed && x.Kind == babysitter.UploadPicture:
			if p := u.Uploads.Picture; p != nil {
				older := *p
				if older.UploadedOn.After(up.UploadedOn) {
					older, up = up, older
				}
				u.Uploads.Discarded = append(u.Uploads.Discarded, older)
			}
			u.Uploads.Picture = &up
		default: // discarded, or a state this build does not know: deleted in the end
			u.Uploads.Discarded = append(u.Uploads.Discarded, up)
		}
	}
	babysitter.SortUploads(u)
}

func verificationItemOf(v *babysitter.Verification) *verificationItem {
	if v == nil {
		return nil
	}
	return &verificationItem{By: v.By, At: v.At, UploadID: v.UploadID}
}

func (i *verificationItem) value() *babysitter.Verification {
	if i == nil {
		return nil
	}
	return &babysitter.Verification{By: i.By, At: i.At, UploadID: i.UploadID}
}

func jobDetailsItemOf(d babysitter.JobDetails) jobDetailsItem {
	return jobDetailsItem{
		JobType: d.JobType, Description: d.Description, NumberOfKids: d.NumberOfKids,
		StartDate: d.StartDate, EndDate: d.EndDate, StartTime: d.StartTime, EndTime: d.EndTime,
		Address: d.Address, City: d.City, Latitude: d.Latitude, Longitude: d.Longitude,
		Cost: moneyItemOf(d.Cost),
	}
}

func (i jobDetailsItem) details() babysitter.JobDetails {
	return babysitter.JobDetails{
		JobType: i.JobType, Description: i.Description, NumberOfKids: i.NumberOfKids,
		StartDate: i.StartDate, EndDate: i.EndDate, StartTime: i.StartTime, EndTime: i.EndTime,
		Address: i.Address, City: i.City, Latitude: i.Latitude, Longitude: i.Longitude,
		Cost: i.Cost.money(),
	}
}

func jobItemOf(j babysitter.Job) jobItem {
	return jobItem{
		ID: j.ID, ParentUsername: j.ParentUsername, jobDetailsItem: jobDetailsItemOf(j.JobDetails),
		Status: j.Status, AcceptedApplicationID: j.AcceptedApplicationID, AcceptedNanny: j.AcceptedNanny,
		CreatedOn: j.CreatedOn, UpdatedOn: j.UpdatedOn, Version: j.Version,
	}
}

func (i jobItem) value() babysitter.Job {
	return babysitter.Job{
		ID: i.ID, ParentUsername: i.ParentUsername, JobDetails: i.jobDetailsItem.details(),
		Status: i.Status, AcceptedApplicationID: i.AcceptedApplicationID, AcceptedNanny: i.AcceptedNanny,
		CreatedOn: i.CreatedOn, UpdatedOn: i.UpdatedOn, Version: i.Version,
	}
}

func applicationItemOf(a babysitter.Application) applicationItem {
	return applicationItem{
		ID: a.ID, JobID: a.JobID, NannyUsername: a.NannyUsername, Message: a.Message, Status: a.Status,
		CreatedOn: a.CreatedOn, UpdatedOn: a.UpdatedOn,
	}
}

func (i applicationItem) value() babysitter.Application {
	return babysitter.Application{
		ID: i.ID, JobID: i.JobID, NannyUsername: i.NannyUsername, Message: i.Message, Status: i.Status,
		CreatedOn: i.CreatedOn, UpdatedOn: i.UpdatedOn,
	}
}

func reviewItemOf(r babysitter.Review) reviewItem {
	return reviewItem{
		ID: r.ID, JobID: r.JobID, Direction: r.Direction, Reviewer: r.Reviewer, Reviewee: r.Reviewee,
		Rating: r.Rating, Text: r.Text, Answers: r.Answers, CreatedOn: r.CreatedOn,
	}
}

func (i reviewItem) value() babysitter.Review {
	return babysitter.Review{
		ID: i.ID, JobID: i.JobID, Direction: i.Direction, Reviewer: i.Reviewer, Reviewee: i.Reviewee,
		Rating: i.Rating, Text: i.Text, Answers: i.Answers, CreatedOn: i.CreatedOn,
	}
}

// decodeOrNil decodes an item that may not exist: nil for no item, as the
// root package's Check functions take a missing one.
func decodeOrNil[T any](item map[string]types.AttributeValue, decode func(map[string]types.AttributeValue) (T, error)) (*T, error) {
	if item == nil {
		return nil, nil
	}
	v, err := decode(item)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// itemName is "PK / SK" of an item, for messages.
func itemName(item map[string]types.AttributeValue) string {
	return str(item, attrPK) + " / " + str(item, attrSK)
}

// str returns a string attribute, or "" when it is missing or not a string.
func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func strValue(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
