package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/queue/memory"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
)

// tutorial is the reference tutorial's booking, implemented faithfully as
// the baseline (the tutorial's "Booking a nanny"; DESIGN.md, "What
// changed from the tutorial"):
//
//	book_nanny:  Query the jobApplications GSI (GSI1PK = JOB#<jobId>,
//	             descending, eventually consistent, one page, no
//	             pagination); one TransactWriteItems of two Updates — the
//	             job (condition: username = the parent — the tutorial's only
//	             check) to CLOSED, the application to ACCEPTED; then for
//	             every item but the first (the job sorts first) whose id is
//	             not the accepted one, one SendMessage of the item as JSON.
//	consumer:    one message at a time: ReceiveMessage (1), UpdateItem
//	             jobApplicationStatus = DECLINED (condition only
//	             attribute_exists(PK), ReturnValues ALL_NEW — it overwrites
//	             any status), DeleteMessage.
//
// The tutorial's Lambda consumer gets batches of 5 from the event source
// mapping but handles the records one by one, each with its own
// UpdateItem; here one consumer does receive-update-delete per message.
type tutorial interface {
	// seed writes an OPEN job of parent and its PENDING applications as
	// the tutorial's create_job and apply_to_job do (one item each).
	seed(ctx context.Context, parent string, apps []tutApp) (jobID string, err error)
	// book is book_nanny.
	book(ctx context.Context, parent, jobID, applicationID string) error
	// consumeOne receives at most one message and handles it; it reports
	// whether it declined an application.
	consumeOne(ctx context.Context) (bool, error)
	// queued is how many messages the queue holds, visible or in flight.
	queued(ctx context.Context) (int, error)
}

type tutApp struct{ id, nanny string }

func newTutApps(nannies []babysitter.Actor) []tutApp {
	apps := make([]tutApp, len(nannies))
	for i, n := range nannies {
		apps[i] = tutApp{id: uuid.Must(uuid.NewV7()).String(), nanny: n.Username}
	}
	return apps
}

// The tutorial's item attributes.
func tutJobItem(parent, jobID string) map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	d := jobDetails()
	return map[string]types.AttributeValue{
		"PK": s("USER#" + parent), "SK": s("JOB#" + jobID),
		"GSI1PK": s("JOB#" + jobID), "GSI1SK": s("JOB#" + jobID), "GSI2SK": s("JOB#" + jobID),
		"id": s(jobID), "username": s(parent), "jobType": s(string(d.JobType)), "description": s(d.Description),
		"numberOfKids": n(strconv.Itoa(d.NumberOfKids)), "startDate": s(d.StartDate.String()), "endDate": s(d.EndDate.String()),
		"startTime": s(d.StartTime.String()), "endTime": s(d.EndTime.String()), "jobStatus": s("OPEN"),
		"longitude": n("13.4"), "latitude": n("52.5"), "address": s(d.Address), "city": s(d.City), "cost": n("45"),
		"createdOn": s(time.Now().UTC().Format(time.RFC3339)),
	}
}

func tutApplicationItem(jobID string, a tutApp) map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	k := "JOB#" + jobID + "#APPLICATION#" + a.id
	return map[string]types.AttributeValue{
		"PK": s(k), "SK": s(k),
		"GSI1PK": s("JOB#" + jobID), "GSI1SK": s("APPLICATION#" + a.id),
		"GSI2PK": s("USER#" + a.nanny), "GSI2SK": s("JOB#" + jobID),
		"id": s(a.id), "jobId": s(jobID), "username": s(a.nanny), "jobApplicationStatus": s("PENDING"),
		"createdOn": s(time.Now().UTC().Format(time.RFC3339)),
	}
}

// ---- on DynamoDB and SQS ----

type tutorialAWS struct {
	ddb      *awsddb.Client
	sqs      *awssqs.Client
	table    string
	queueURL string
}

// newTutorialAWS creates the tutorial's table (its template: PK/SK, GSIs
// jobApplications, jobsAppliedTo, getJobsByStatus, all projecting ALL) and
// queue (visibility 20s, DLQ after 5 receives).
func newTutorialAWS(ctx context.Context, e *env) (*tutorialAWS, error) {
	t := &tutorialAWS{ddb: e.ddb, sqs: e.sqs, table: e.name("tutorial")}
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	gsi := func(name, hash, rng string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: key(hash, rng),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}
	}
	if _, err := t.ddb.CreateTable(ctx, &awsddb.CreateTableInput{
		TableName:   aws.String(t.table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attr("PK"), attr("SK"), attr("GSI1PK"), attr("GSI1SK"), attr("GSI2PK"), attr("GSI2SK"), attr("jobStatus"),
		},
		KeySchema: key("PK", "SK"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi("jobApplications", "GSI1PK", "GSI1SK"),
			gsi("jobsAppliedTo", "GSI2PK", "GSI2SK"),
			gsi("getJobsByStatus", "jobStatus", "SK"),
		},
	}); err != nil {
		return nil, fmt.Errorf("create the tutorial's table: %w", err)
	}
	e.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = e.ddb.DeleteTable(ctx, &awsddb.DeleteTableInput{TableName: aws.String(t.table)})
	})
	if err := awsddb.NewTableExistsWaiter(t.ddb).Wait(ctx, &awsddb.DescribeTableInput{TableName: aws.String(t.table)}, time.Minute); err != nil {
		return nil, err
	}
	url, dlq, err := sqsqueue.CreateQueue(ctx, e.sqs, e.name("tutorial"), 20*time.Second, 5)
	if err != nil {
		return nil, err
	}
	e.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, u := range []string{url, dlq} {
			_, _ = e.sqs.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	t.queueURL = url
	return t, nil
}

func (t *tutorialAWS) seed(ctx context.Context, parent string, apps []tutApp) (string, error) {
	jobID := uuid.Must(uuid.NewV7()).String()
	items := []map[string]types.AttributeValue{tutJobItem(parent, jobID)}
	for _, a := range apps {
		items = append(items, tutApplicationItem(jobID, a))
	}
	// Seeding is not timed: BatchWriteItem, 25 items a request, 4 at once.
	n := (len(items) + 24) / 25
	err := parallel(ctx, n, 4, func(ctx context.Context, i int) error {
		var reqs []types.WriteRequest
		for _, it := range items[i*25 : min((i+1)*25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt > 10 {
				return fmt.Errorf("BatchWriteItem: %d items unprocessed", len(reqs))
			}
			out, err := t.ddb.BatchWriteItem(ctx, &awsddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{t.table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[t.table]
		}
		return nil
	})
	return jobID, err
}

func (t *tutorialAWS) book(ctx context.Context, parent, jobID, applicationID string) error {
	// First step: get all applications of the job, through the GSI.
	resp, err := t.ddb.Query(ctx, &awsddb.QueryInput{
		TableName:                 aws.String(t.table),
		IndexName:                 aws.String("jobApplications"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "JOB#" + jobID}},
		ScanIndexForward:          aws.Bool(false),
	})
	if err != nil {
		return err
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	app := "JOB#" + jobID + "#APPLICATION#" + applicationID
	if _, err := t.ddb.TransactWriteItems(ctx, &awsddb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                           aws.String(t.table),
				Key:                                 tableKey("USER#"+parent, "JOB#"+jobID),
				ConditionExpression:                 aws.String("username = :username"),
				UpdateExpression:                    aws.String("SET jobStatus = :jobStatus"),
				ExpressionAttributeValues:           map[string]types.AttributeValue{":username": s(parent), ":jobStatus": s("CLOSED")},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Update: &types.Update{
				TableName:                           aws.String(t.table),
				Key:                                 tableKey(app, app),
				UpdateExpression:                    aws.String("SET jobApplicationStatus= :jobApplicationStatus"),
				ExpressionAttributeValues:           map[string]types.AttributeValue{":jobApplicationStatus": s("ACCEPTED")},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
		},
		ReturnConsumedCapacity:      types.ReturnConsumedCapacityTotal,
		ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize,
	}); err != nil {
		return err
	}
	// Send the rest of the applications, one message each.
	for _, item := range resp.Items[min(1, len(resp.Items)):] {
		var plain map[string]any
		if err := attributevalue.UnmarshalMap(item, &plain); err != nil {
			return err
		}
		if plain["id"] == applicationID {
			continue
		}
		body, err := json.Marshal(plain)
		if err != nil {
			return err
		}
		if _, err := t.sqs.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(t.queueURL), MessageBody: aws.String(string(body))}); err != nil {
			return err
		}
	}
	return nil
}

// tutMessage is what the consumer reads of a message: the application
// item's id and jobId.
type tutMessage struct {
	ID    string `json:"id"`
	JobID string `json:"jobId"`
}

func (t *tutorialAWS) consumeOne(ctx context.Context) (bool, error) {
	out, err := t.sqs.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl: aws.String(t.queueURL), MaxNumberOfMessages: 1, WaitTimeSeconds: 1,
	})
	if err != nil || len(out.Messages) == 0 {
		return false, err
	}
	m := out.Messages[0]
	var item tutMessage
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &item); err != nil {
		return false, err
	}
	k := "JOB#" + item.JobID + "#APPLICATION#" + item.ID
	if _, err := t.ddb.UpdateItem(ctx, &awsddb.UpdateItemInput{
		TableName:                 aws.String(t.table),
		Key:                       tableKey(k, k),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		UpdateExpression:          aws.String("set jobApplicationStatus= :jobApplicationStatus"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":jobApplicationStatus": &types.AttributeValueMemberS{Value: "DECLINED"}},
		ReturnValues:              types.ReturnValueAllNew,
	}); err != nil {
		return false, err
	}
	_, err = t.sqs.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(t.queueURL), ReceiptHandle: m.ReceiptHandle})
	return err == nil, err
}

func (t *tutorialAWS) queued(ctx context.Context) (int, error) {
	v, nv, err := sqsqueue.New(t.sqs, t.queueURL, sqsqueue.Options{}).Len(ctx)
	return v + nv, err
}

// ---- in memory ----

// tutorialMem is the same algorithm on a map and a memory queue, so the
// scenario runs on the memory backend too. Its "requests" are counted in
// the memory backend's Store calls under the DynamoDB API names.
type tutorialMem struct {
	e     *env
	mu    sync.Mutex
	items map[[2]string]map[string]string
	q     *countingQueue
}

func newTutorialMem(e *env) *tutorialMem {
	return &tutorialMem{e: e, items: map[[2]string]map[string]string{},
		q: &countingQueue{q: memory.New(memory.Options{WaitTime: 200 * time.Millisecond}), m: &e.memQueue}}
}

func plainItem(item map[string]types.AttributeValue) map[string]string {
	out := make(map[string]string, len(item))
	for k, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = v.Value
		case *types.AttributeValueMemberN:
			out[k] = v.Value
		}
	}
	return out
}

func (t *tutorialMem) seed(_ context.Context, parent string, apps []tutApp) (string, error) {
	jobID := uuid.Must(uuid.NewV7()).String()
	t.mu.Lock()
	defer t.mu.Unlock()
	put := func(item map[string]types.AttributeValue) {
		p := plainItem(item)
		t.items[[2]string{p["PK"], p["SK"]}] = p
	}
	put(tutJobItem(parent, jobID))
	for _, a := range apps {
		put(tutApplicationItem(jobID, a))
	}
	return jobID, nil
}

func (t *tutorialMem) book(ctx context.Context, parent, jobID, applicationID string) error {
	t.e.memStore.inc("Query")
	t.mu.Lock()
	var found []map[string]string
	for _, it := range t.items {
		if it["GSI1PK"] == "JOB#"+jobID {
			found = append(found, maps.Clone(it))
		}
	}
	t.mu.Unlock()
	slices.SortFunc(found, func(a, b map[string]string) int { return cmp.Compare(b["GSI1SK"], a["GSI1SK"]) })

	t.e.memStore.inc("TransactWriteItems")
	t.mu.Lock()
	job := t.items[[2]string{"USER#" + parent, "JOB#" + jobID}]
	if job == nil || job["username"] != parent {
		t.mu.Unlock()
		return errors.New("you aren't authorized to make this update") // the tutorial's message
	}
	job["jobStatus"] = "CLOSED"
	k := "JOB#" + jobID + "#APPLICATION#" + applicationID
	if app := t.items[[2]string{k, k}]; app != nil {
		app["jobApplicationStatus"] = "ACCEPTED"
	}
	t.mu.Unlock()

	for _, item := range found[min(1, len(found)):] {
		if item["id"] == applicationID {
			continue
		}
		body, err := json.Marshal(item)
		if err != nil {
			return err
		}
		if err := t.q.Send(ctx, []babysitter.Message{{Body: body}}); err != nil {
			return err
		}
	}
	return nil
}

func (t *tutorialMem) consumeOne(ctx context.Context) (bool, error) {
	msgs, err := t.q.Receive(ctx, 1)
	if err != nil || len(msgs) == 0 {
		return false, err
	}
	var item tutMessage
	if err := json.Unmarshal(msgs[0].Body, &item); err != nil {
		return false, err
	}
	t.e.memStore.inc("UpdateItem")
	k := "JOB#" + item.JobID + "#APPLICATION#" + item.ID
	t.mu.Lock()
	if app := t.items[[2]string{k, k}]; app != nil {
		app["jobApplicationStatus"] = "DECLINED"
	}
	t.mu.Unlock()
	err = t.q.Delete(ctx, msgs)
	return err == nil, err
}

func (t *tutorialMem) queued(context.Context) (int, error) {
	v, f := t.q.q.Len()
	return v + f, nil
}
