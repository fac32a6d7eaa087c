package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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
			Gender: "female", Address: "1 Way", About: "Hi",
			Latitude: ptr(52.520008), Longitude: ptr(-13.404954), PhoneNumber: "+4915112345678",
			SpokenLanguages: []string{"en", "de"}, Nationality: "British", RegionOfOrigin: "London",
			HourlyRate: &babysitter.Money{Amount: 1850, Currency: "EUR"}, EducationLevel: "MSc",
			Smokes: ptr(false), Drinks: ptr(true), Disabilities: "none", Activities: []string{"chess"},
		},
		ProfilePicURL: "https://img.example.com/a.png",
		Rating:        babysitter.Rating{Count: 3, Sum: 13},
		CreatedOn:     t, UpdatedOn: t.Add(time.Nanosecond), Version: 7,
	}
}

func fullJob() babysitter.Job {
	return babysitter.Job{
		ID: "0190a1b2-0000-7000-8000-000000000002", ParentUsername: "grace",
		JobDetails: babysitter.JobDetails{
			JobType: babysitter.JobCleaning, Description: "d", NumberOfKids: 2,
			StartDate: babysitter.Date{Year: 2030, Month: 1, Day: 31}, EndDate: babysitter.Date{Year: 2030, Month: 2, Day: 1},
			StartTime: 23*60 + 59, EndTime: 30, Address: "a", City: "c", Latitude: -89.999999, Longitude: 179.123456789,
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
	item, err := encodeUser(u)
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
	item, err = encodeJob(j)
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
	item, err = encodeApplication(a)
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
	item, err = encodeReview(r)
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
// top-level numbers CreateReview ADDs to (not a map, nor the JSON with the
// average), and read back from them.
func TestRatingAttributes(t *testing.T) {
	t.Parallel()
	const attrRating = "rating" // version-0 user items from before ratingCount/ratingSum
	u := fullUser()
	item, err := encodeUser(u)
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
	item, err := encodeJob(j)
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
		item, _ := encodeJob(j)
		if _, ok := item[attrGSI3PK]; ok {
			t.Errorf("a %s job has %s", st, attrGSI3PK)
		}
		if _, ok := item[attrGSI3SK]; ok {
			t.Errorf("a %s job has %s", st, attrGSI3SK)
		}
	}
}

// TestAttributeNames checks that the attribute names used in expressions
// are attributes of the items they are used on (the item structs' names),
// and that timeValue writes times as the encoder does.
func TestAttributeNames(t *testing.T) {
	t.Parallel()
	u, _ := encodeUser(fullUser())
	j, _ := encodeJob(fullJob())
	a, _ := encodeApplication(babysitter.Application{ID: "a", JobID: "j", NannyUsername: "n", Status: babysitter.ApplicationPending})
	e, _ := encodeEmail("e@example.com", "n")
	am, _ := encodeApplicant(babysitter.Application{ID: "a", JobID: "j", NannyUsername: "n"})
	rm, _ := encodeReviewMarker(fullReview())
	ts, _ := encodeTombstone("n", time.Now())
	for _, c := range []struct {
		item  map[string]types.AttributeValue
		names []string
	}{
		{u, []string{attrUsername, attrEmail, attrUserStatus, attrUserType, attrUpdatedOn, attrVersion, attrOpenJobs, attrRatingCount, attrRatingSum, attrSchema}},
		{j, []string{attrUsername, attrJobStatus, attrAccepted, attrAcceptedNanny, attrUpdatedOn, attrVersion, attrSchema}},
		{a, []string{attrUsername, attrAppStatus, attrUpdatedOn, attrSchema}},
		{e, []string{attrUsername, attrSchema}},
		{am, []string{attrUsername, attrSchema}},
		{rm, []string{attrUsername, attrSchema}},
		{ts, []string{attrUsername, attrSchema}},
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
				t.Errorf("attribute %q of profileItem/jobDetailsItem is on no item", n)
			}
		}
	}
	if len(profileAttrs) != reflect.TypeFor[babysitter.Profile]().NumField() || len(jobDetailsAttrs) != reflect.TypeFor[babysitter.JobDetails]().NumField() {
		t.Errorf("profileAttrs %q, jobDetailsAttrs %q: not one a field of Profile, JobDetails", profileAttrs, jobDetailsAttrs)
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
	// A user's reviews range holds the reviews, not the user's own item
	// nor the username's tombstone.
	for _, sk := range []string{userKey("ada"), str(tombstoneItemKey("ada"), attrSK)} {
		if strings.HasPrefix(sk, userReviews("ada").lo) {
			t.Errorf("%s inside the reviews range", sk)
		}
	}
	// The tombstone is in the user's partition, beside the user's item.
	if k := tombstoneItemKey("ada"); str(k, attrPK) != userKey("ada") || str(k, attrSK) == userKey("ada") {
		t.Errorf("tombstone key %s", itemName(k))
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

// TestGuardExpr checks the Guard's condition — the account exists, is
// bound to the actor's subject or to none, has the role's type and an
// allowed status — including a Guard that allows nothing.
func TestGuardExpr(t *testing.T) {
	t.Parallel()
	allow := []babysitter.AccountStatus{babysitter.StatusVerified, babysitter.StatusUnverified}
	tests := []struct {
		name    string
		subject string
		want    string
		names   map[string]string
		values  map[string]types.AttributeValue
	}{
		{
			name:   "an actor without a subject: an account bound to none",
			want:   "attribute_exists(#n0) AND attribute_not_exists(#n1) AND #n2 = :v0 AND #n3 IN (:v1, :v2)",
			names:  map[string]string{"#n0": attrPK, "#n1": attrSubject, "#n2": attrUserType, "#n3": attrUserStatus},
			values: map[string]types.AttributeValue{":v0": strValue("NANNY"), ":v1": strValue("VERIFIED"), ":v2": strValue("UNVERIFIED")},
		},
		{
			name: "an actor with a subject: an account bound to it or to none", subject: "sub-1",
			want:   "attribute_exists(#n0) AND (attribute_not_exists(#n1) OR #n1 = :v0) AND #n2 = :v1 AND #n3 IN (:v2, :v3)",
			names:  map[string]string{"#n0": attrPK, "#n1": attrSubject, "#n2": attrUserType, "#n3": attrUserStatus},
			values: map[string]types.AttributeValue{":v0": strValue("sub-1"), ":v1": strValue("NANNY"), ":v2": strValue("VERIFIED"), ":v3": strValue("UNVERIFIED")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nanny := babysitter.Actor{Username: "u", Role: babysitter.RoleNanny, Subject: tt.subject}
			e := newExpr()
			if got := e.guard(babysitter.Guard{Actor: nanny, Allow: allow}); got != tt.want {
				t.Errorf("guard = %q, want %q", got, tt.want)
			}
			if d := cmp.Diff(tt.names, e.Names()); d != "" {
				t.Errorf("names (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.values, e.Values(), cmpopts.IgnoreUnexported(types.AttributeValueMemberS{})); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
	// DEACTIVATED never passes (g.Check refuses it whatever Allow lists),
	// and a Guard that allows nothing passes nothing.
	nanny := babysitter.Actor{Username: "u", Role: babysitter.RoleNanny}
	for _, allow := range [][]babysitter.AccountStatus{nil, {babysitter.StatusDeactivated}} {
		e := newExpr()
		if got := e.guard(babysitter.Guard{Actor: nanny, Allow: allow}); got != "attribute_exists(#n0) AND attribute_not_exists(#n1) AND #n2 = :v0 AND (attribute_exists(#n0) AND attribute_not_exists(#n0))" {
			t.Errorf("guard allowing %v = %q", allow, got)
		}
	}
}

// TestUserOps checks that the actions on one user are one action, under
// the user's name, with every condition on that user.
func TestUserOps(t *testing.T) {
	t.Parallel()
	parent := babysitter.Guard{Actor: babysitter.Actor{Username: "p", Role: babysitter.RoleParent, Subject: "sub-p"}, Allow: []babysitter.AccountStatus{babysitter.StatusVerified}}
	var uo userOps
	uo.add("p", attrOpenJobs, -1)
	uo.guard(parent)
	uo.require("n", babysitter.UserNanny, []babysitter.AccountStatus{babysitter.StatusVerified})
	uo.guard(admin())
	tx := newTxn("table")
	uo.addTo(tx)
	if want := []string{userAction("p"), userAction("n")}; !slices.Equal(tx.names, want) {
		t.Fatalf("actions %q, want %q", tx.names, want)
	}
	up := tx.items[0].Update
	if up == nil || *up.UpdateExpression != "ADD #n4 :v3" ||
		*up.ConditionExpression != "attribute_exists(#n0) AND (attribute_not_exists(#n1) OR #n1 = :v0) AND #n2 = :v1 AND #n3 IN (:v2)" {
		t.Errorf("parent's action: %+v", tx.items[0])
	}
	// The applicant's account is not the actor's: no subject condition.
	check := tx.items[1].ConditionCheck
	if check == nil || *check.ConditionExpression != "attribute_exists(#n0) AND #n1 = :v0 AND #n2 IN (:v1)" {
		t.Errorf("applicant's action: %+v", tx.items[1])
	}
	for i, it := range tx.items {
		if it.Update != nil && it.Update.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld ||
			it.ConditionCheck != nil && it.ConditionCheck.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
			t.Errorf("action %d does not return the item on failure", i)
		}
	}
}

func admin() babysitter.Guard {
	return babysitter.Guard{Actor: babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}}
}

// TestTxCanceled reads a cancellation by action name: which condition
// failed, the item it returned, and whether only contention canceled it.
func TestTxCanceled(t *testing.T) {
	t.Parallel()
	tx := newTxn("table")
	e := newExpr()
	tx.check("job", jobItemKey("j"), e, e.exists())
	tx.put("marker", applicantItemKey("j", "n"), nil, "")
	tx.check(userAction("n"), userItemKey("n"), e, e.exists())
	code := func(c string) *string { return &c }
	job := map[string]types.AttributeValue{attrPK: strValue("JOB#j"), attrJobStatus: strValue("CLOSED")}
	c := &txCanceled{t: tx, err: errors.New("canceled"), reasons: []types.CancellationReason{
		{Code: code(reasonConditionFailed), Item: job},
		{Code: code(reasonNone)},
		{Code: code(reasonConditionFailed)}, // a missing item: none returned
	}}
	if !c.failed("job") || c.failed("marker") || !c.failed(userAction("n")) {
		t.Errorf("failed: job %v, marker %v, user %v; want true, false, true", c.failed("job"), c.failed("marker"), c.failed(userAction("n")))
	}
	if got := c.item("job"); str(got, attrJobStatus) != "CLOSED" {
		t.Errorf("item(job) = %v", got)
	}
	if got := c.item(userAction("n")); got != nil {
		t.Errorf("item of a missing user = %v, want nil", got)
	}
	if c.contended() {
		t.Error("a failed condition counts as contention")
	}
	if !canceled(fmt.Errorf("wrapped: %w", c)).failed("job") {
		t.Error("canceled does not find a wrapped cancellation")
	}
	contended := &txCanceled{t: tx, err: errors.New("canceled"), reasons: []types.CancellationReason{
		{Code: code(reasonNone)}, {Code: code(reasonTxConflict)}, {Code: code(reasonNone)},
	}}
	if !contended.contended() || contended.failed("job") {
		t.Error("a TransactionConflict is not contention")
	}
	defer func() {
		if recover() == nil {
			t.Error("reading an action the transaction does not have: no panic")
		}
	}()
	c.failed("nope")
}

// TestRetry checks the retry helper: it stops at the first result that is
// not again(…), gives up after maxAttempts with ErrConflict and the last
// cause reachable, and stops waiting when ctx ends.
func TestRetry(t *testing.T) {
	t.Parallel()
	n := 0
	err := retry(t.Context(), "Op", func() error {
		n++
		if n < 3 {
			return again(errors.New("contended"))
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("retry = %v after %d attempts, want nil after 3", err, n)
	}
	cause := errors.New("still contended")
	n = 0
	err = retry(t.Context(), "Op", func() error { n++; return again(cause) })
	if n != maxAttempts || !errors.Is(err, babysitter.ErrConflict) || !errors.Is(err, cause) {
		t.Errorf("retry = %v after %d attempts, want ErrConflict wrapping the cause after %d", err, n, maxAttempts)
	}
	domain := babysitter.JobNotFound("j")
	n = 0
	if err := retry(t.Context(), "Op", func() error { n++; return domain }); err != domain || n != 1 {
		t.Errorf("retry = %v after %d attempts, want the domain error after 1", err, n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	err = retry(ctx, "Op", func() error { n++; cancel(); return again(cause) })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("retry with a canceled ctx = %v after %d attempts, want context.Canceled after 1", err, n)
	}
}

// TestLegacyPendingApplications: user items written before the nanny's
// pendingApplications counter went away still carry it; they decode, the
// counter ignored.
func TestLegacyPendingApplications(t *testing.T) {
	t.Parallel()
	u := fullUser()
	item, err := encodeUser(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := item["pendingApplications"]; ok {
		t.Error("a new user item has pendingApplications")
	}
	item["pendingApplications"] = number(3)
	got, err := decodeUser(item)
	if err != nil {
		t.Fatalf("decode an item with pendingApplications: %v", err)
	}
	if d := cmp.Diff(u, got, cmpOpts); d != "" {
		t.Errorf("user (-want +got):\n%s", d)
	}
	if a := accountOf(item); a.Type != u.Type || a.Status != u.Status || a.Username != u.Username {
		t.Errorf("accountOf = %+v", a)
	}
}
