package fullstack_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
)

// Seeding by example. The large cases need thousands of nannies and
// applications; through the Service — one transaction each — 5,000
// nannies and two jobs of 5,000 applications took over four minutes on
// DynamoDB Local (2 shared cores). So one nanny and one application are
// written through the store, their items read back and copied with
// BatchWriteItem, 25 items a request, with only their identifiers
// changed: the copies have the store's own item shape, whatever it is,
// and the store's reads cannot tell them from the original.

// seedNannies creates n VERIFIED nanny accounts — one through the store,
// n-1 copies of its items — and returns their usernames.
func seedNannies(w *world, n int) []string {
	w.t.Helper()
	now := time.Now().UTC()
	first := babysitter.User{
		ID:        uuid.Must(uuid.NewV7()).String(),
		Username:  uniqueName(),
		Type:      babysitter.UserNanny,
		Status:    babysitter.StatusVerified,
		Profile:   babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: 1, Day: 2}},
		CreatedOn: now,
		UpdatedOn: now,
		Version:   1,
	}
	first.Email = first.Username + "@example.com"
	if err := w.store.CreateUser(w.t.Context(), first); err != nil {
		w.t.Fatalf("CreateUser: %v", err)
	}
	s := newSeeder(w)
	// The user's item and its email reservation.
	templates := append(s.partition("USER#"+first.Username, first.Username), s.partition("USEREMAIL#"+first.Email, first.Username)...)
	names := make([]string, n)
	names[0] = first.Username
	rs := make([]*strings.Replacer, n-1)
	for i := range rs {
		names[i+1] = uniqueName()
		rs[i] = strings.NewReplacer(first.Username, names[i+1], first.ID, uuid.Must(uuid.NewV7()).String())
	}
	s.copies(templates, rs)

	// A copy reads back as the account it copies.
	u, err := w.store.GetUser(w.t.Context(), names[n-1])
	if err != nil || u.Username != names[n-1] || u.Email != names[n-1]+"@example.com" || u.Type != babysitter.UserNanny || u.Status != babysitter.StatusVerified {
		w.t.Fatalf("a copied nanny reads back as %+v, %v", u, err)
	}
	return names
}

// seedJob creates a job of parent with one PENDING application per nanny:
// the first through the Service, the others copies of its items.
func seedJob(w *world, parent babysitter.Actor, nannies []string) (babysitter.Job, []babysitter.Application) {
	w.t.Helper()
	job := w.job(parent)
	first, err := w.svc.ApplyToJob(w.t.Context(), babysitter.Actor{Username: nannies[0], Role: babysitter.RoleNanny}, job.ID, babysitter.NewApplication{})
	if err != nil {
		w.t.Fatalf("ApplyToJob: %v", err)
	}
	s := newSeeder(w)
	// The application and its applicant marker.
	templates := s.partition("JOB#"+job.ID, first.ID, first.NannyUsername)
	apps := make([]babysitter.Application, len(nannies))
	apps[0] = first
	rs := make([]*strings.Replacer, len(nannies)-1)
	for i := range rs {
		a := first
		a.ID, a.NannyUsername = uuid.Must(uuid.NewV7()).String(), nannies[i+1]
		apps[i+1] = a
		rs[i] = strings.NewReplacer(first.ID, a.ID, first.NannyUsername, a.NannyUsername)
	}
	s.copies(templates, rs)
	return job, apps
}

// A seeder writes straight to the world's table.
type seeder struct {
	w     *world
	ddb   *awsddb.Client
	table string
}

func newSeeder(w *world) *seeder {
	return &seeder{w: w, ddb: testenv.DynamoDBClient(w.t), table: w.table}
}

// partition returns the items of partition pk (strongly consistent) that
// hold one of the tokens in one of their strings; it fails the test when
// there are none.
func (s *seeder) partition(pk string, tokens ...string) []map[string]types.AttributeValue {
	s.w.t.Helper()
	p := awsddb.NewQueryPaginator(s.ddb, &awsddb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	var out []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(s.w.t.Context())
		if err != nil {
			s.w.t.Fatalf("Query %s: %v", pk, err)
		}
		for _, item := range page.Items {
			for _, v := range item {
				if mentions(v, tokens) {
					out = append(out, item)
					break
				}
			}
		}
	}
	if len(out) == 0 {
		s.w.t.Fatalf("no item of partition %s mentions %q", pk, tokens)
	}
	return out
}

// mentions reports whether a string in v holds one of the tokens.
func mentions(v types.AttributeValue, tokens []string) bool {
	found := false
	walk(v, func(s string) string {
		for _, t := range tokens {
			found = found || strings.Contains(s, t)
		}
		return s
	})
	return found
}

// walk returns v with every string in it (S, SS, and inside M and L)
// passed through fn.
func walk(v types.AttributeValue, fn func(string) string) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: fn(v.Value)}
	case *types.AttributeValueMemberSS:
		out := make([]string, len(v.Value))
		for i, s := range v.Value {
			out[i] = fn(s)
		}
		return &types.AttributeValueMemberSS{Value: out}
	case *types.AttributeValueMemberM:
		out := make(map[string]types.AttributeValue, len(v.Value))
		for k, e := range v.Value {
			out[k] = walk(e, fn)
		}
		return &types.AttributeValueMemberM{Value: out}
	case *types.AttributeValueMemberL:
		out := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			out[i] = walk(e, fn)
		}
		return &types.AttributeValueMemberL{Value: out}
	}
	return v
}

// copies writes, for each replacer, a copy of every template with the
// replacer applied to every string it holds: BatchWriteItem, 25 items a
// request, 8 requests at a time, unprocessed items sent again.
func (s *seeder) copies(templates []map[string]types.AttributeValue, rs []*strings.Replacer) {
	s.w.t.Helper()
	var reqs []types.WriteRequest
	for _, r := range rs {
		for _, tmpl := range templates {
			item := make(map[string]types.AttributeValue, len(tmpl))
			for k, v := range tmpl {
				item[k] = walk(v, r.Replace)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
	}
	const per = 25
	batches := (len(reqs) + per - 1) / per
	errs := make([]error, batches)
	parallel(batches, 8, func(b int) {
		pending := reqs[b*per : min((b+1)*per, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 10 {
				errs[b] = fmt.Errorf("BatchWriteItem: %d items unprocessed after %d attempts", len(pending), attempt)
				return
			}
			out, err := s.ddb.BatchWriteItem(s.w.t.Context(), &awsddb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				errs[b] = err
				return
			}
			pending = out.UnprocessedItems[s.table]
		}
	})
	if err := errors.Join(errs...); err != nil {
		s.w.t.Fatalf("seeding %d items: %v", len(reqs), err)
	}
}
