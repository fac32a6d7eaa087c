package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

// overheadCase is one operation made two ways: through the Service, and
// as the single request it comes down to, made directly.
type overheadCase struct {
	op string
	// prepare builds, untimed, the direct request of iteration i.
	prepare func(i int) (service, direct func(ctx context.Context) error, err error)
}

func overhead(ctx context.Context, e *env, rep *report) error {
	e.prog.phase("2 overhead: fixtures")
	w, err := e.mainWorld(ctx)
	if err != nil {
		return err
	}
	parent, err := w.user(ctx, babysitter.RoleParent)
	if err != nil {
		return err
	}
	guard := babysitter.Guard{Actor: parent, Allow: []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified}}

	var cases []overheadCase
	getUser := func(ctx context.Context) error { _, err := w.svc.GetUser(ctx, parent, parent.Username); return err }
	createJob := func(ctx context.Context) error { _, err := w.job(ctx, parent); return err }
	if e.backend == backendMemory {
		// No SDK: the direct path is the Store method the Service calls.
		cases = []overheadCase{
			{"GetUser", func(int) (func(context.Context) error, func(context.Context) error, error) {
				return getUser, func(ctx context.Context) error { _, err := w.store.GetUser(ctx, parent.Username); return err }, nil
			}},
			{"CreateJob", func(int) (func(context.Context) error, func(context.Context) error, error) {
				j := newJobValue(parent.Username)
				return createJob, func(ctx context.Context) error { return w.store.CreateJob(ctx, guard, j) }, nil
			}},
		}
	} else {
		getItem := &awsddb.GetItemInput{
			TableName:      aws.String(w.table),
			Key:            tableKey("USER#"+parent.Username, "USER#"+parent.Username),
			ConsistentRead: aws.Bool(true),
		}
		cases = []overheadCase{
			{"GetUser", func(int) (func(context.Context) error, func(context.Context) error, error) {
				return getUser, func(ctx context.Context) error { _, err := e.ddb.GetItem(ctx, getItem); return err }, nil
			}},
			{"CreateJob", func(int) (func(context.Context) error, func(context.Context) error, error) {
				in, err := createJobInput(w.table, newJobValue(parent.Username), guard)
				if err != nil {
					return nil, nil, err
				}
				return createJob, func(ctx context.Context) error { _, err := e.ddb.TransactWriteItems(ctx, in); return err }, nil
			}},
		}
	}

	t := &table{head: []string{"operation", "pairs", "Service p50", "direct p50", "ratio p50", "Service mean", "direct mean", "ratio mean", "requests/op (Service, direct)"}}
	var worst float64
	for _, c := range cases {
		svcName, directName := "overhead: "+c.op+" via Service", "overhead: "+c.op+" direct"
		var svcLat, directLat []time.Duration
		var svcCalls, directCalls counts
		total := e.sz.warm + e.sz.pairs
		e.prog.phase("2 overhead: %s", c.op)
		for i := range total {
			e.prog.step("pair %d/%d", i+1, total)
			service, direct, err := c.prepare(i)
			if err != nil {
				return err
			}
			// Alternate which goes first, so neither always follows the
			// other's warm cache or cold connection.
			first, second := service, direct
			if i%2 == 1 {
				first, second = direct, service
			}
			var lat [2]time.Duration
			var cs [2]counts
			for k, fn := range []func(context.Context) error{first, second} {
				before := e.snapshot()
				t0 := time.Now()
				if err := fn(ctx); err != nil {
					return fmt.Errorf("%s: %w", c.op, err)
				}
				lat[k] = time.Since(t0)
				cs[k] = e.snapshot().sub(before)
			}
			if i%2 == 1 {
				lat[0], lat[1] = lat[1], lat[0]
				cs[0], cs[1] = cs[1], cs[0]
			}
			if i < e.sz.warm {
				continue
			}
			svcLat, directLat = append(svcLat, lat[0]), append(directLat, lat[1])
			svcCalls, directCalls = svcCalls.add(cs[0]), directCalls.add(cs[1])
			e.rec.add(svcName, 1, lat[0], cs[0])
			e.rec.add(directName, 1, lat[1], cs[1])
		}
		sp, dp := percentile(svcLat, 0.5), percentile(directLat, 0.5)
		r50 := float64(sp) / float64(dp)
		rMean := float64(mean(svcLat)) / float64(mean(directLat))
		worst = max(worst, r50)
		t.add(c.op, fmt.Sprint(len(svcLat)), dur(sp), dur(dp), ratio(r50), dur(mean(svcLat)), dur(mean(directLat)), ratio(rMean),
			perOp(int64(totalCalls(svcCalls)), len(svcLat))+", "+perOp(int64(totalCalls(directCalls)), len(directLat)))
	}

	sec := section{
		title: "2. Library overhead",
		text: []string{
			fmt.Sprintf("Each operation through the Service (validation, authorization, IDs, marshalling, the store's "+
				"request, decoding) against the same single request made directly on the same client, prebuilt "+
				"outside the timing; %d interleaved pairs after %d warm-up pairs, alternating which goes first. "+
				"ratio = Service / direct.", e.sz.pairs, e.sz.warm),
		},
		tables: []*table{t},
	}
	if e.backend == backendMemory {
		sec.text = append(sec.text, "Memory backend: \"direct\" is the Store method the Service calls, so the ratio is the "+
			"Service layer's cost over a map access — large, and irrelevant next to any network request.")
		rep.info("library overhead (p50 ratio, worst of GetUser and CreateJob)", ratio(worst), "≤ 1.15")
	} else {
		rep.target("library overhead (p50 ratio, worst of GetUser and CreateJob)", ratio(worst), "≤ 1.15", worst <= 1.15)
	}
	rep.add(sec)
	return nil
}

func totalCalls(c counts) int { return total(c.store) + total(c.queue) }

// newJobValue is a job as the Service would create it.
func newJobValue(parent string) babysitter.Job {
	now := time.Now().UTC()
	return babysitter.Job{
		ID: uuid.Must(uuid.NewV7()).String(), ParentUsername: parent, JobDetails: jobDetails(),
		Status: babysitter.JobOpen, CreatedOn: now, UpdatedOn: now, Version: 1,
	}
}

func tableKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

var itemEncoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) {
	o.TagKey = "json"
	o.UseEncodingMarshalers = true
})

// createJobInput is the TransactWriteItems store/dynamodb sends for
// CreateJob (see its doc.go): Put the job item if new, and add 1 to the
// parent's openJobs under the Guard's condition (the account exists, is
// of the role's type and in an allowed status).
func createJobInput(table string, j babysitter.Job, g babysitter.Guard) (*awsddb.TransactWriteItemsInput, error) {
	av, err := itemEncoder.Encode(j)
	if err != nil {
		return nil, err
	}
	item := av.(*types.AttributeValueMemberM).Value
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item["PK"], item["SK"] = s("JOB#"+j.ID), s("JOB#"+j.ID)
	item["GSI1PK"], item["GSI1SK"] = s("USER#"+j.ParentUsername), s("JOB#"+j.ID)
	item["GSI2PK"], item["GSI2SK"] = s("JOBSTATUS#"+string(j.Status)), s("JOB#"+j.ID)
	values := map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":type": s(string(g.AccountType()))}
	in := "#n1 IN ("
	for i, st := range g.Allow {
		if i > 0 {
			in += ", "
		}
		p := fmt.Sprintf(":v%d", i)
		in += p
		values[p] = s(string(st))
	}
	in += ")"
	return &awsddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                aws.String(table),
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#n0)"),
			ExpressionAttributeNames: map[string]string{"#n0": "PK"},
		}},
		{Update: &types.Update{
			TableName:                           aws.String(table),
			Key:                                 tableKey("USER#"+j.ParentUsername, "USER#"+j.ParentUsername),
			UpdateExpression:                    aws.String("ADD #n2 :one"),
			ConditionExpression:                 aws.String("attribute_exists(#n0) AND #n3 = :type AND " + in),
			ExpressionAttributeNames:            map[string]string{"#n0": "PK", "#n1": "status", "#n2": "openJobs", "#n3": "type"},
			ExpressionAttributeValues:           values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
	}}, nil
}
