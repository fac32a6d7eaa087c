package dynamodb

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// Items store the domain types as the JSON names of their fields (the
// root package's json tags), so the table reads like the API: times are
// RFC 3339 strings with nanoseconds (exact round trip), Date "2006-01-02",
// TimeOfDay "15:04", Money a map {amount: N, currency: S}. On top of that
// each item has its key attributes and, on users, the counters below.

// Attribute names used in expressions. They are the json names of the
// domain fields; TestAttributeNames checks they still are.
const (
	attrUsername      = "username"             // User.Username, Job.ParentUsername, Application.NannyUsername
	attrEmail         = "email"                // User.Email
	attrUserStatus    = "status"               // User.Status
	attrUserType      = "type"                 // User.Type
	attrJobStatus     = "jobStatus"            // Job.Status
	attrAppStatus     = "jobApplicationStatus" // Application.Status
	attrAccepted      = "acceptedApplicationId"
	attrAcceptedNanny = "acceptedNanny" // Job.AcceptedNanny
	attrReviewID      = "reviewId"      // on the review marker
	attrUpdatedOn     = "updatedOn"
	attrVersion       = "version"
	attrApplicationID = "applicationId" // on the applicant marker
	attrDeletedOn     = "deletedOn"     // on a username tombstone
)

// Counters on the user item, kept in the same transactions as the changes
// they count, so a rule on them is one condition.
const (
	// attrOpenJobs counts a parent's OPEN jobs: DeleteUser's rule.
	attrOpenJobs = "openJobs"
	// A nanny's pendingApplications counter is gone: a decline writes only
	// the application. User items written before still carry it; it is
	// ignored (TestLegacyPendingApplications).
	// attrRatingCount and attrRatingSum are User.Rating (Count, Sum), kept
	// as top-level numbers rather than the map {count, sum} the encoder
	// would write, so that CreateReview adds to them with ADD, which
	// needs no existing attribute and no nested document path.
	attrRatingCount = "ratingCount"
	attrRatingSum   = "ratingSum"
	// attrRating is the json name of User.Rating; user items do not have it.
	attrRating = "rating"
)

var (
	encoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
		o.UseEncodingMarshalers = true // Date, TimeOfDay as text
	})
	decoder = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) {
		o.TagKey = "json"
		o.UseEncodingUnmarshalers = true
	})
)

// profileAttrs and jobDetailsAttrs are the attributes UpdateUser and
// UpdateJob may write: the fields of Profile and JobDetails.
var (
	profileAttrs    = jsonNames(reflect.TypeFor[babysitter.Profile]())
	jobDetailsAttrs = jsonNames(reflect.TypeFor[babysitter.JobDetails]())
)

func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// marshal encodes a domain value as an item's attributes.
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

func withKeys(item map[string]types.AttributeValue, keys map[string]string) map[string]types.AttributeValue {
	for k, v := range keys {
		item[k] = &types.AttributeValueMemberS{Value: v}
	}
	return item
}

func userItem(u babysitter.User) (map[string]types.AttributeValue, error) {
	item, err := marshal(u)
	if err != nil {
		return nil, err
	}
	item[attrOpenJobs] = number(0)
	delete(item, attrRating)
	item[attrRatingCount] = number(u.Rating.Count)
	item[attrRatingSum] = number(u.Rating.Sum)
	return withKeys(item, userKeys(u.Username, u.Type)), nil
}

// jobItem is a job's item; an OPEN job also carries the byCell index keys.
func jobItem(j babysitter.Job) (map[string]types.AttributeValue, error) {
	item, err := marshal(j)
	if err != nil {
		return nil, err
	}
	if j.Status == babysitter.JobOpen {
		withKeys(item, geoKeys(j.ID, j.Latitude, j.Longitude))
	}
	return withKeys(item, jobKeys(j.ID, j.ParentUsername, j.Status)), nil
}

// tombstoneItem is the item that keeps a deleted username from being
// registered again: its username and when it was deleted, nothing else.
func tombstoneItem(username string, deletedOn time.Time) map[string]types.AttributeValue {
	item := tombstoneItemKey(username)
	item[attrUsername] = strValue(username)
	item[attrDeletedOn] = timeValue(deletedOn)
	return item
}

// reviewItem is a review's item, in the reviewee's partition.
func reviewItem(r babysitter.Review) (map[string]types.AttributeValue, error) {
	item, err := marshal(r)
	if err != nil {
		return nil, err
	}
	k := reviewItemKey(r.Reviewee, r.ID)
	item[attrPK], item[attrSK] = k[attrPK], k[attrSK]
	return item, nil
}

// reviewMarker is the item that says job r.JobID has its review in
// r.Direction: r's ID and its reviewer.
func reviewMarker(r babysitter.Review) map[string]types.AttributeValue {
	item := reviewMarkerKey(r.JobID, r.Direction)
	item[attrReviewID] = strValue(r.ID)
	item[attrUsername] = strValue(r.Reviewer)
	return item
}

// applicantMarker is the item that says a.NannyUsername applied to
// a.JobID: the application's ID and the nanny.
func applicantMarker(a babysitter.Application) map[string]types.AttributeValue {
	item := applicantItemKey(a.JobID, a.NannyUsername)
	item[attrApplicationID] = strValue(a.ID)
	item[attrUsername] = strValue(a.NannyUsername)
	return item
}

func applicationItem(a babysitter.Application) (map[string]types.AttributeValue, error) {
	item, err := marshal(a)
	if err != nil {
		return nil, err
	}
	return withKeys(item, applicationKeys(a.JobID, a.ID, a.NannyUsername)), nil
}

// DecodeError is returned when a stored item cannot be read as the domain
// type its key says it is: the table holds data this version does not
// understand, or corrupt data. It is not one of the domain error kinds.
type DecodeError struct {
	// Key is the item's "PK / SK".
	Key string
	// Type is the Go type it was decoded into.
	Type string
	Err  error
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("dynamodb: item %s is not a valid %s: %v", e.Key, e.Type, e.Err)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *DecodeError) Unwrap() error { return e.Err }

// unmarshal decodes an item into a domain value; it never panics on bad data.
func unmarshal[T any](item map[string]types.AttributeValue) (v T, err error) {
	defer func() {
		if r := recover(); r != nil { // the decoder is reflection-heavy; belt and braces
			err = &DecodeError{Key: itemName(item), Type: fmt.Sprintf("%T", v), Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	if err := decoder.Decode(&types.AttributeValueMemberM{Value: item}, &v); err != nil {
		return v, &DecodeError{Key: itemName(item), Type: fmt.Sprintf("%T", v), Err: err}
	}
	return v, nil
}

func decodeUser(item map[string]types.AttributeValue) (babysitter.User, error) {
	u, err := unmarshal[babysitter.User](item)
	if err == nil && u.Username == "" {
		err = &DecodeError{Key: itemName(item), Type: "babysitter.User", Err: fmt.Errorf("no %s", attrUsername)}
	}
	if err != nil {
		return u, err
	}
	for _, c := range []struct {
		attr string
		dst  *int64
	}{{attrRatingCount, &u.Rating.Count}, {attrRatingSum, &u.Rating.Sum}} {
		v, ok := item[c.attr]
		if !ok {
			continue // an item written before the counters were top-level: the map decoded above stands
		}
		n, ok := v.(*types.AttributeValueMemberN)
		if !ok {
			return u, &DecodeError{Key: itemName(item), Type: "babysitter.User", Err: fmt.Errorf("%s is %T, not a number", c.attr, v)}
		}
		if *c.dst, err = strconv.ParseInt(n.Value, 10, 64); err != nil {
			return u, &DecodeError{Key: itemName(item), Type: "babysitter.User", Err: fmt.Errorf("%s: %w", c.attr, err)}
		}
	}
	return u, nil
}

func decodeJob(item map[string]types.AttributeValue) (babysitter.Job, error) {
	j, err := unmarshal[babysitter.Job](item)
	if err == nil && j.ID == "" {
		err = &DecodeError{Key: itemName(item), Type: "babysitter.Job", Err: fmt.Errorf("no id")}
	}
	return j, err
}

func decodeApplication(item map[string]types.AttributeValue) (babysitter.Application, error) {
	a, err := unmarshal[babysitter.Application](item)
	if err == nil && (a.ID == "" || a.JobID == "") {
		err = &DecodeError{Key: itemName(item), Type: "babysitter.Application", Err: fmt.Errorf("no id or jobId")}
	}
	return a, err
}

func decodeReview(item map[string]types.AttributeValue) (babysitter.Review, error) {
	r, err := unmarshal[babysitter.Review](item)
	if err == nil && (r.ID == "" || r.JobID == "") {
		err = &DecodeError{Key: itemName(item), Type: "babysitter.Review", Err: fmt.Errorf("no id or jobId")}
	}
	return r, err
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
