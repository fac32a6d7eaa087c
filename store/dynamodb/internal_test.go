package dynamodb

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/babysitter-go/babysitter"
)

func ptr[T any](v T) *T { return &v }

var cmpOpts = cmp.Options{cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }), cmpopts.EquateEmpty()}

func fullUser() babysitter.User {
	t := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 5*3600+1800))
	return babysitter.User{
		ID: "0190a1b2-0000-7000-8000-000000000001", Username: "ada", Email: "ada@example.com",
		Type: babysitter.UserNanny, Status: babysitter.StatusVerified,
		Profile: babysitter.Profile{
			FirstName: "Ada", LastName: "Lovelace", DateOfBirth: babysitter.Date{Year: 1990, Month: 12, Day: 10},
			Gender: "female", ProfilePicURL: "https://img.example.com/a.png", Address: "1 Way", About: "Hi",
			Latitude: ptr(52.520008), Longitude: ptr(-13.404954), PhoneNumber: "+4915112345678",
			SpokenLanguages: []string{"en", "de"}, Nationality: "British", RegionOfOrigin: "London",
			HourlyRate: &babysitter.Money{Amount: 1850, Currency: "EUR"}, EducationLevel: "MSc",
			Smokes: ptr(false), Drinks: ptr(true), Disabilities: "none", Activities: []string{"chess"},
		},
		Rating:    babysitter.Rating{Count: 3, Sum: 13},
		CreatedOn: t, UpdatedOn: t.Add(time.Nanosecond), Version: 7,
	}
}

func fullJob() babysitter.Job {
	return babysitter.Job{
		ID: "0190a1b2-0000-7000-8000-000000000002", ParentUsername: "grace",
		JobDetails: babysitter.JobDetails{
			JobType: babysitter.JobCleaning, Description: "d", NumberOfKids: 0,
			StartDate: babysitter.Date{Year: 2030, Month: 1, Day: 31}, EndDate: babysitter.Date{Year: 2030, Month: 2, Day: 1},
			StartTime: 23*60 + 59, EndTime: 0, Address: "a", City: "c", Latitude: -89.999999, Longitude: 179.123456789,
			Cost: babysitter.Money{Amount: 100_000_000_00, Currency: "JPY"},
		},
		Status: babysitter.JobClosed, AcceptedApplicationID: "x", AcceptedNanny: "ada",
		CreatedOn: time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC), UpdatedOn: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Version: 2,
	}
}

// TestItemRoundTrip encodes every field of each entity and decodes it back.
func TestItemRoundTrip(t *testing.T) {
	t.Parallel()
	u := fullUser()
	item, err := userItem(u)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeUser(item)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(u, got, cmpOpts); d != "" {
		t.Errorf("user round trip (-want +got):\n%s", d)
	}
	if !got.CreatedOn.Equal(u.CreatedOn) || got.CreatedOn.Format(time.RFC3339Nano) != u.CreatedOn.Format(time.RFC3339Nano) {
		t.Errorf("createdOn %v, want %v (offset kept)", got.CreatedOn, u.CreatedOn)
	}
	if m, ok := item["hourlyRate"].(*types.AttributeValueMemberM); !ok {
		t.Errorf("hourlyRate is %T, want a map", item["hourlyRate"])
	} else if _, ok := m.Value["amount"].(*types.AttributeValueMemberN); !ok {
		t.Errorf("hourlyRate.amount is %T, want a number", m.Value["amount"])
	}
	if d, ok := item["dateOfBirth"].(*types.AttributeValueMemberS); !ok || d.Value != "1990-12-10" {
		t.Errorf("dateOfBirth = %v, want the string 1990-12-10", item["dateOfBirth"])
	}

	j := fullJob()
	item, err = jobItem(j)
	if err != nil {
		t.Fatal(err)
	}
	gotJ, err := decodeJob(item)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(j, gotJ, cmpOpts); d != "" {
		t.Errorf("job round trip (-want +got):\n%s", d)
	}
	if st, ok := item["startTime"].(*types.AttributeValueMemberS); !ok || st.Value != "23:59" {
		t.Errorf("startTime = %v, want the string 23:59", item["startTime"])
	}

	a := babysitter.Application{ID: "a1", JobID: j.ID, NannyUsername: "ada", Message: "m", Status: babysitter.ApplicationDeclined,
		CreatedOn: time.Unix(1, 2).UTC(), UpdatedOn: time.Unix(3, 4).UTC()}
	item, err = applicationItem(a)
	if err != nil {
		t.Fatal(err)
	}
	gotA, err := decodeApplication(item)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, gotA, cmpOpts); d != "" {
		t.Errorf("application round trip (-want +got):\n%s", d)
	}

	r := fullReview()
	item, err = reviewItem(r)
	if err != nil {
		t.Fatal(err)
	}
	if str(item, attrPK) != "USER#ada" || str(item, attrSK) != "REVIEW#"+r.ID {
		t.Errorf("review key %s, want USER#ada / REVIEW#%s", itemName(item), r.ID)
	}
	gotR, err := decodeReview(item)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, gotR, cmpOpts); d != "" {
		t.Errorf("review round trip (-want +got):\n%s", d)
	}
}

func fullReview() babysitter.Review {
	return babysitter.Review{ID: "0190a1b2-0000-7000-8000-000000000003", JobID: "0190a1b2-0000-7000-8000-000000000002",
		Direction: babysitter.ReviewOfNanny, Reviewer: "grace", Reviewee: "ada", Rating: 4, Text: "Lovely",
		Answers:   map[string]bool{"punctual": true, "wouldBookAgain": false, "followedInstructions": true},
		CreatedOn: time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)}
}

// TestRatingAttributes checks that a user's Rating is stored as the
// top-level numbers CreateReview ADDs to (not the map the encoder would
// write, nor the JSON with the average), and read back from them.
func TestRatingAttributes(t *testing.T) {
	t.Parallel()
	u := fullUser()
	item, err := userItem(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := item[attrRating]; ok {
		t.Errorf("user item has a %q attribute: %v", attrRating, item[attrRating])
	}
	if num(item, attrRatingCount) != 3 || num(item, attrRatingSum) != 13 {
		t.Errorf("ratingCount, ratingSum = %v, %v; want 3, 13", item[attrRatingCount], item[attrRatingSum])
	}
	item[attrRatingCount], item[attrRatingSum] = number(4), number(18) // as after ADD 1, ADD 5
	got, err := decodeUser(item)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rating != (babysitter.Rating{Count: 4, Sum: 18}) {
		t.Errorf("Rating = %+v, want {4 18}", got.Rating)
	}
	// An item written before the counters were top-level keeps its map.
	delete(item, attrRatingCount)
	delete(item, attrRatingSum)
	item[attrRating] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"count": number(2), "sum": number(7)}}
	if got, err := decodeUser(item); err != nil || got.Rating != (babysitter.Rating{Count: 2, Sum: 7}) {
		t.Errorf("Rating from the map = %+v, %v; want {2 7}", got.Rating, err)
	}
	item[attrRatingCount] = strValue("many")
	var de *DecodeError
	if _, err := decodeUser(item); !errors.As(err, &de) {
		t.Errorf("ratingCount as a string: %v, want a *DecodeError", err)
	}
}

// TestCellIndexKeys checks that only OPEN jobs carry the byCell keys, and
// that they are the cell and the geohash + ID of the job's location.
func TestCellIndexKeys(t *testing.T) {
	t.Parallel()
	j := fullJob()
	j.Status = babysitter.JobOpen
	j.Latitude, j.Longitude = 52.520008, 13.404954
	item, err := jobItem(j)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := str(item, attrGSI3PK), "CELL#"+babysitter.Geohash(j.Latitude, j.Longitude, 4); got != want {
		t.Errorf("GSI3PK = %q, want %q", got, want)
	}
	hash := babysitter.Geohash(j.Latitude, j.Longitude, 9)
	if got, want := str(item, attrGSI3SK), hash+"#"+j.ID; got != want {
		t.Errorf("GSI3SK = %q, want %q", got, want)
	}
	// A range whose bounds are the hash itself holds the key: the ID's
	// separator and every geohash character sort below the range's end.
	sk := str(item, attrGSI3SK)
	if !(hash <= sk && sk <= hash+geoKeyEnd) {
		t.Errorf("%q outside [%q, %q]", sk, hash, hash+geoKeyEnd)
	}
	for _, c := range geoKeySep + "0123456789bcdefghjkmnpqrstuvwxyz" {
		if string(c) >= geoKeyEnd {
			t.Errorf("%q does not sort below %q", c, geoKeyEnd)
		}
	}
	for _, st := range []babysitter.JobStatus{babysitter.JobClosed, babysitter.JobCompleted, babysitter.JobCancelled} {
		j.Status = st
		item, _ := jobItem(j)
		if _, ok := item[attrGSI3PK]; ok {
			t.Errorf("a %s job has %s", st, attrGSI3PK)
		}
		if _, ok := item[attrGSI3SK]; ok {
			t.Errorf("a %s job has %s", st, attrGSI3SK)
		}
	}
}

// TestAttributeNames checks that the attribute names used in expressions
// are the ones the encoder writes (the domain types' json names), and that
// timeValue writes times as the encoder does.
func TestAttributeNames(t *testing.T) {
	t.Parallel()
	u, _ := userItem(fullUser())
	j, _ := jobItem(fullJob())
	a, _ := applicationItem(babysitter.Application{ID: "a", JobID: "j", NannyUsername: "n", Status: babysitter.ApplicationPending})
	for _, c := range []struct {
		item  map[string]types.AttributeValue
		names []string
	}{
		{u, []string{attrUsername, attrEmail, attrUserStatus, attrUpdatedOn, attrVersion, attrOpenJobs, attrPendingApps, attrRatingCount, attrRatingSum}},
		{j, []string{attrUsername, attrJobStatus, attrAccepted, attrAcceptedNanny, attrUpdatedOn, attrVersion}},
		{a, []string{attrUsername, attrAppStatus, attrUpdatedOn}},
	} {
		for _, n := range c.names {
			if _, ok := c.item[n]; !ok {
				t.Errorf("item %s has no attribute %q", itemName(c.item), n)
			}
		}
	}
	for _, n := range slices.Concat(profileAttrs, jobDetailsAttrs) {
		if _, ok := u[n]; !ok {
			if _, ok := j[n]; !ok {
				t.Errorf("attribute %q of Profile/JobDetails is on no item", n)
			}
		}
	}
	usr := fullUser()
	if got := str(u, attrUpdatedOn); got != timeValue(usr.UpdatedOn).(*types.AttributeValueMemberS).Value {
		t.Errorf("encoder writes updatedOn %q, timeValue %v", got, timeValue(usr.UpdatedOn))
	}
}

// TestKeyOrder checks the sort-key order the key design relies on.
func TestKeyOrder(t *testing.T) {
	t.Parallel()
	id := "0190a1b2-0000-7000-8000-000000000002"
	order := []string{applicantKey("zz-nanny"), applicationKey(id), jobKey(id), userKey("aaa")}
	if !slices.IsSorted(order) {
		t.Errorf("want %q sorted", order)
	}
	// The job's applications query range holds the applications and the
	// job, not the markers.
	l := jobApplications(id)
	for _, sk := range []string{applicationKey(id), jobKey(id)} {
		if sk < l.lo || sk > l.hi {
			t.Errorf("%s outside %s…%s", sk, l.lo, l.hi)
		}
	}
	for _, m := range []string{applicantKey("zz"), reviewKey(string(babysitter.ReviewOfNanny)), reviewKey(string(babysitter.ReviewOfParent))} {
		if m >= l.lo && m <= l.hi {
			t.Errorf("marker %s inside the applications range", m)
		}
	}
	// A user's reviews range holds the reviews, not the user's own item.
	if u := userKey("ada"); strings.HasPrefix(u, userReviews("ada").lo) {
		t.Errorf("user item %s inside the reviews range", u)
	}
}

// TestCursorChecks feeds list.start cursors of the right scope whose keys
// point elsewhere: all are invalid input, none becomes a start key.
func TestCursorChecks(t *testing.T) {
	t.Parallel()
	jobsOf := func(parent string) list {
		return list{
			scope: "parent-jobs:" + parent, index: IndexByUser, pkAttr: attrGSI1PK, skAttr: attrGSI1SK,
			pk: userKey(parent), lo: prefixJob, hi: userKey(parent), prefix: prefixJob,
			valid: func(k map[string]string) bool { return k[attrPK] == k[attrSK] && k[attrPK] == k[attrGSI1SK] },
		}
	}
	l := jobsOf("alice")
	good := jobKeys("j1", "alice", babysitter.JobOpen)
	delete(good, attrGSI2PK)
	delete(good, attrGSI2SK)
	if _, err := l.start(babysitter.EncodeCursor(l.scope, good)); err != nil {
		t.Fatalf("a cursor of this list: %v", err)
	}
	bad := map[string]map[string]string{
		"another partition": {attrPK: "JOB#j1", attrSK: "JOB#j1", attrGSI1PK: "USER#bob", attrGSI1SK: "JOB#j1"},
		"missing index key": {attrPK: "JOB#j1", attrSK: "JOB#j1", attrGSI1PK: "USER#alice"},
		"extra attribute":   {attrPK: "JOB#j1", attrSK: "JOB#j1", attrGSI1PK: "USER#alice", attrGSI1SK: "JOB#j1", "X": "y"},
		"not a job":         {attrPK: "USER#alice", attrSK: "USER#alice", attrGSI1PK: "USER#alice", attrGSI1SK: "USER#alice"},
		"keys disagree":     {attrPK: "JOB#j2", attrSK: "JOB#j2", attrGSI1PK: "USER#alice", attrGSI1SK: "JOB#j1"},
		"empty id":          {attrPK: "JOB#", attrSK: "JOB#", attrGSI1PK: "USER#alice", attrGSI1SK: "JOB#"},
	}
	for name, key := range bad {
		if _, err := l.start(babysitter.EncodeCursor(l.scope, key)); !errors.Is(err, babysitter.ErrInvalidInput) {
			t.Errorf("%s: got %v, want invalid input", name, err)
		}
	}
	if _, err := jobsOf("bob").start(babysitter.EncodeCursor(l.scope, good)); !errors.Is(err, babysitter.ErrInvalidInput) {
		t.Errorf("alice's cursor on bob's list: got %v, want invalid input", err)
	}
	for _, c := range []string{"%%%", "eyJ2IjoxfQ", "null"} {
		if _, err := l.start(c); !errors.Is(err, babysitter.ErrInvalidInput) {
			t.Errorf("cursor %q: got %v, want invalid input", c, err)
		}
	}
}

// TestGuardExpr checks the Guard's condition, including a Guard that
// allows nothing.
func TestGuardExpr(t *testing.T) {
	t.Parallel()
	e := newExpr()
	got := e.guard(babysitter.Guard{Username: "u", Allow: []babysitter.AccountStatus{babysitter.StatusVerified, babysitter.StatusUnverified}})
	if want := "attribute_exists(#n0) AND #n1 IN (:v0, :v1)"; got != want {
		t.Errorf("guard = %q, want %q", got, want)
	}
	e = newExpr()
	if got := e.guard(babysitter.Guard{Username: "u"}); got != "attribute_exists(#n0) AND (attribute_exists(#n0) AND attribute_not_exists(#n0))" {
		t.Errorf("empty guard = %q", got)
	}
}
