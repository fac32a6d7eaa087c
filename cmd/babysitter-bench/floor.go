package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
)

// The floor of BookNanny: the requests the call comes down to, built
// outside the timing and sent bare, one after the other as BookNanny sends
// them, on the same servers. Since issue 14 that is one consistent
// BatchGetItem (the job, the application, the parent), one
// TransactWriteItems (store/dynamodb bookTxn: the job, the application,
// the parent's counter under the Guard, the applicant's ConditionCheck,
// the outbox Put) and one SendMessageBatch of one entry, whatever N. On
// the memory backend the floor is the Store's BookNanny and the Queue's
// Send, called directly.
type floor struct {
	e      *env
	w      *world
	parent babysitter.Actor
	nanny  babysitter.Actor
	q      babysitter.Queue // where the floor's messages go: nobody consumes it
	url    string           // aws: q's URL
}

// bookStatuses are the account statuses the bench's Service lets book and
// be booked (Options.AllowUnverified), as its Guard and BookRequest carry
// them.
var bookStatuses = []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified}

func newFloor(ctx context.Context, e *env, w *world, parent, nanny babysitter.Actor) (*floor, error) {
	q, _, err := e.newQueue(ctx, "floor")
	if err != nil {
		return nil, err
	}
	f := &floor{e: e, w: w, parent: parent, nanny: nanny, q: q}
	if sq, ok := q.(*sqsqueue.Queue); ok {
		f.url = sq.URL()
	}
	return f, nil
}

// prepare makes, untimed, a fresh OPEN job of the parent with one PENDING
// application of the nanny, and returns BookNanny's requests for it.
func (f *floor) prepare(ctx context.Context) (func(context.Context) error, error) {
	j, err := f.w.job(ctx, f.parent)
	if err != nil {
		return nil, err
	}
	a, err := f.w.svc.ApplyToJob(ctx, f.nanny, j.ID, babysitter.NewApplication{Message: "Happy to help."})
	if err != nil {
		return nil, err
	}
	return f.prepareOn(j, a), nil
}

// prepareOn returns BookNanny's requests booking application a of the
// parent's OPEN job j, built now.
func (f *floor) prepareOn(j babysitter.Job, a babysitter.Application) func(context.Context) error {
	at := time.Now().UTC()
	msg := babysitter.DeclineMessage(j.ID)
	if f.e.backend == backendMemory {
		req := babysitter.BookRequest{
			Guard:          babysitter.Guard{Actor: f.parent, Allow: bookStatuses},
			ApplicationRef: babysitter.ApplicationRef{JobID: j.ID, ApplicationID: a.ID},
			Applicant:      bookStatuses,
			At:             at,
		}
		return func(ctx context.Context) error {
			if _, _, err := f.w.base.BookNanny(ctx, req); err != nil {
				return err
			}
			return f.q.Send(ctx, []babysitter.Message{msg})
		}
	}
	get := &awsddb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{f.w.table: {
		Keys:           []map[string]types.AttributeValue{jobItemKey(j.ID), applicationItemKey(j.ID, a.ID), userItemKey(f.parent.Username)},
		ConsistentRead: aws.Bool(true),
	}}}
	txn := bookTxnInput(f.w.table, j, a, f.parent.Username, at)
	attrs := map[string]sqstypes.MessageAttributeValue{}
	for k, v := range msg.Attributes {
		attrs[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	send := &awssqs.SendMessageBatchInput{QueueUrl: aws.String(f.url), Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("0"), MessageBody: aws.String(string(msg.Body)), MessageAttributes: attrs},
	}}
	return func(ctx context.Context) error {
		out, err := f.e.ddb.BatchGetItem(ctx, get)
		if err != nil {
			return err
		}
		if got := len(out.Responses[f.w.table]); got != 3 || len(out.UnprocessedKeys) > 0 {
			return fmt.Errorf("floor: BatchGetItem returned %d of 3 items", got)
		}
		if _, err := f.e.ddb.TransactWriteItems(ctx, txn); err != nil {
			return err
		}
		sent, err := f.e.sqs.SendMessageBatch(ctx, send)
		if err == nil && len(sent.Failed) > 0 {
			err = fmt.Errorf("floor: SendMessageBatch failed %d entries", len(sent.Failed))
		}
		return err
	}
}

// The keys store/dynamodb gives its items (its doc.go's key table),
// mirrored here to build requests and read items without the store.

func jobItemKey(id string) map[string]types.AttributeValue {
	return tableKey("JOB#"+id, "JOB#"+id)
}

func applicationItemKey(jobID, id string) map[string]types.AttributeValue {
	return tableKey("JOB#"+jobID, "APPLICATION#"+id)
}

func userItemKey(username string) map[string]types.AttributeValue {
	return tableKey("USER#"+username, "USER#"+username)
}

// dueItemKey is the key of a job's outbox item: DECLINES#<FNV-1a(id) mod
// 4> / JOB#<id>.
func dueItemKey(jobID string) map[string]types.AttributeValue {
	h := fnv.New32a()
	h.Write([]byte(jobID))
	return tableKey("DECLINES#"+strconv.Itoa(int(h.Sum32()%4)), "JOB#"+jobID)
}

// bookTxnInput is store/dynamodb's bookTxn as a request: the five actions
// in its order, each asking for the old item on a failed condition, with
// a fresh ClientRequestToken.
func bookTxnInput(table string, j babysitter.Job, a babysitter.Application, parent string, at time.Time) *awsddb.TransactWriteItemsInput {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	now := s(at.Format(time.RFC3339Nano))
	allOld := types.ReturnValuesOnConditionCheckFailureAllOld
	statuses := map[string]types.AttributeValue{}
	in := ""
	for i, st := range bookStatuses {
		p := ":s" + strconv.Itoa(i)
		statuses[p] = s(string(st))
		if i > 0 {
			in += ", "
		}
		in += p
	}
	account := func(typ babysitter.UserType) map[string]types.AttributeValue {
		v := map[string]types.AttributeValue{":type": s(string(typ))}
		for k, x := range statuses {
			v[k] = x
		}
		return v
	}
	parentValues := account(babysitter.UserParent)
	parentValues[":minus"] = &types.AttributeValueMemberN{Value: "-1"}
	due := dueItemKey(j.ID)
	due["jobId"] = s(j.ID)
	due["due"] = s(at.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	return &awsddb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(uuid.NewString()),
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: aws.String(table),
				Key:       jobItemKey(j.ID),
				UpdateExpression: aws.String("SET #st = :closed, #acc = :app, #an = :nanny, #g2 = :g2, #up = :now " +
					"REMOVE #g3pk, #g3sk"),
				ConditionExpression: aws.String("#st = :open AND #user = :parent AND #ver = :ver"),
				ExpressionAttributeNames: map[string]string{"#st": "jobStatus", "#acc": "acceptedApplicationId",
					"#an": "acceptedNanny", "#g2": "GSI2PK", "#up": "updatedOn", "#g3pk": "GSI3PK", "#g3sk": "GSI3SK",
					"#user": "username", "#ver": "version"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":closed": s("CLOSED"), ":app": s(a.ID),
					":nanny": s(a.NannyUsername), ":g2": s("JOBSTATUS#CLOSED"), ":now": now, ":open": s("OPEN"),
					":parent": s(j.ParentUsername), ":ver": &types.AttributeValueMemberN{Value: strconv.FormatInt(j.Version, 10)}},
				ReturnValuesOnConditionCheckFailure: allOld,
			}},
			{Update: &types.Update{
				TableName:                           aws.String(table),
				Key:                                 applicationItemKey(j.ID, a.ID),
				UpdateExpression:                    aws.String("SET #st = :accepted, #up = :now"),
				ConditionExpression:                 aws.String("#st = :pending AND #user = :nanny"),
				ExpressionAttributeNames:            map[string]string{"#st": "jobApplicationStatus", "#up": "updatedOn", "#user": "username"},
				ExpressionAttributeValues:           map[string]types.AttributeValue{":accepted": s("ACCEPTED"), ":now": now, ":pending": s("PENDING"), ":nanny": s(a.NannyUsername)},
				ReturnValuesOnConditionCheckFailure: allOld,
			}},
			{Update: &types.Update{
				TableName:                           aws.String(table),
				Key:                                 userItemKey(parent),
				UpdateExpression:                    aws.String("ADD #open :minus"),
				ConditionExpression:                 aws.String("attribute_exists(#pk) AND #type = :type AND #status IN (" + in + ")"),
				ExpressionAttributeNames:            map[string]string{"#open": "openJobs", "#pk": "PK", "#type": "type", "#status": "status"},
				ExpressionAttributeValues:           parentValues,
				ReturnValuesOnConditionCheckFailure: allOld,
			}},
			{ConditionCheck: &types.ConditionCheck{
				TableName:                           aws.String(table),
				Key:                                 userItemKey(a.NannyUsername),
				ConditionExpression:                 aws.String("attribute_exists(#pk) AND #type = :type AND #status IN (" + in + ")"),
				ExpressionAttributeNames:            map[string]string{"#pk": "PK", "#type": "type", "#status": "status"},
				ExpressionAttributeValues:           account(babysitter.UserNanny),
				ReturnValuesOnConditionCheckFailure: allOld,
			}},
			{Put: &types.Put{TableName: aws.String(table), Item: due, ReturnValuesOnConditionCheckFailure: allOld}},
		},
	}
}
