package dynamodb

import (
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/babysitter-go/babysitter"
)

// The outbox of due declines: BookNanny and a TransitionJob that cancels
// put an item DECLINES#<shard> / JOB#<id> in the same transaction that
// moves the job out of OPEN, and DeclinePending deletes it once no
// application of the job is PENDING. DueDeclines reads the shards, so
// whatever a lost message or a crashed process left behind is found.
// The shards spread the puts and deletes of many bookings over several
// partitions; the outbox holds only the jobs whose declines are in flight,
// so a sweep reads few items.
const (
	prefixDue   = "DECLINES#"
	dueShards   = 4
	attrDueTime = "due" // outboxItem.Due
)

// dueItemKey is the outbox item of a job.
func dueItemKey(jobID string) map[string]types.AttributeValue {
	return tableKey(shardKey(prefixDue, jobID), jobKey(jobID))
}

// shardKey is the partition of id's item in an outbox of dueShards
// partitions named prefix<0–3>: an FNV hash of id.
func shardKey(prefix, id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return prefix + strconv.Itoa(int(h.Sum32()%dueShards))
}

// outboxItem is the stored shape of an outbox item (key: dueItemKey).
type outboxItem struct {
	JobID string `dynamodbav:"jobId"`
	// Due is when the declines became due, in dueTime's format.
	Due string `dynamodbav:"due"`
}

// encodeDue is the outbox item saying the declines of job jobID are due
// since at.
func encodeDue(jobID string, at time.Time) map[string]types.AttributeValue {
	item, _ := encodeItem(outboxItem{JobID: jobID, Due: dueTime(at)}, keyStrings(dueItemKey(jobID))) // two strings always encode
	return item
}

// dueTime is a time as the outbox stores it: UTC with nine fractional
// digits, fixed width, so that comparing the strings (DueDeclines's
// filter, its sort) compares the times. RFC 3339 with trimmed fractions
// would not: "…:05Z" sorts after "…:05.1Z".
func dueTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// declineBatch is how many declines one transaction holds (DynamoDB's
// limit of 100 actions), declineConcurrency how many such transactions
// of one DeclinePending are in flight.
const (
	declineBatch       = 100
	declineConcurrency = 4
)

// DeclinePending reads the job's partition with a strongly consistent
// Query — PK = JOB#<id>, SK from "APPLICATION#" to "JOB#<id>", descending,
// the job's item then every application, page by page (a filter would
// save no read units: DynamoDB counts what it reads before filtering) —
// decides babysitter.CheckDecline on the job (the first item),
// then declines the page's PENDING applications in TransactWriteItems of
// up to 100 conditional Updates (PENDING → DECLINED, condition: still
// PENDING), up to declineConcurrency transactions at a time, before
// reading the next page. A decline writes only the application. The job's
// outbox item stays until ClearDeclines.
//
// Each decline is independent: when a transaction is canceled, its
// reasons say by name which applications are no longer PENDING (withdrawn
// or declined since the read); those are skipped and the rest go again,
// so one changed application blocks nothing. Why transactions of 100 and
// not one conditional UpdateItem each: on DynamoDB Local they drained the
// same declines 1.0–2.6 times as fast (1.16–1.57 in the drain) for 17–66 %
// less of its CPU, at the tutorial's write units per decline; a lone
// UpdateItem would cost a third fewer write units (BENCHMARKS.md,
// "Declines"). declineConcurrency transactions in flight change little
// on DynamoDB Local, which serializes them; on DynamoDB they overlap.
//
// Once the job is not OPEN no application can be added to it, so the read
// sees every application left to decline; a redelivered message finds
// none PENDING and writes nothing.
func (s *Store) DeclinePending(ctx context.Context, jobID string, now time.Time) (babysitter.DeclineResult, error) {
	const op = "DeclinePending"
	e := newExpr()
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table),
		KeyConditionExpression: aws.String(e.eq(attrPK, strValue(jobKey(jobID))) + " AND " +
			e.n(attrSK) + " BETWEEN " + e.sv(prefixApplication) + " AND " + e.sv(jobKey(jobID))),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
	}
	var res babysitter.DeclineResult
	for first := true; ; first = false {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return res, s.mapError(op, err)
		}
		items := out.Items
		if first {
			var j *babysitter.Job
			if len(items) > 0 && str(items[0], attrSK) == jobKey(jobID) {
				if j, err = decodeOrNil(items[0], decodeJob); err != nil {
					return res, s.mapError(op, err)
				}
				items = items[1:]
			}
			if err := babysitter.CheckDecline(jobID, j); err != nil {
				return res, err
			}
			res.Job = *j
		}
		apps := make([]babysitter.Application, 0, len(items))
		var pending []string
		for _, item := range items {
			a, err := decodeApplication(item)
			if err != nil {
				return res, s.mapError(op, err)
			}
			if babysitter.Declinable(jobID, &a) {
				pending = append(pending, a.ID)
			}
			apps = append(apps, a)
		}
		changed, err := s.declineAll(ctx, jobID, pending, now, &res)
		if err != nil {
			return res, s.mapError(op, err)
		}
		for i, a := range apps {
			if c, ok := changed[a.ID]; ok {
				apps[i] = c // as it is now
			} else if babysitter.Declinable(jobID, &a) {
				apps[i].Status, apps[i].UpdatedOn = babysitter.ApplicationDeclined, now // as written
			}
		}
		res.Applications = append(res.Applications, apps...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey // internal paging: not a cursor
	}
	return res, nil
}

// ClearDeclines is one DeleteItem of the job's outbox item.
func (s *Store) ClearDeclines(ctx context.Context, jobID string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: dueItemKey(jobID)})
	return s.mapError("ClearDeclines", err)
}

// declineAll declines the applications ids of the job (PENDING when read)
// in transactions of up to declineBatch, declineConcurrency at a time,
// adding each to res.Declined or, when it had changed, res.Skipped. It
// returns the skipped applications as their failed conditions returned
// them: as they are now.
func (s *Store) declineAll(ctx context.Context, jobID string, ids []string, now time.Time, res *babysitter.DeclineResult) (map[string]babysitter.Application, error) {
	var mu sync.Mutex
	changed := map[string]babysitter.Application{}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(declineConcurrency)
	for start := 0; start < len(ids); start += declineBatch {
		batch := ids[start:min(start+declineBatch, len(ids))]
		g.Go(func() error {
			declined, skipped, err := s.declineBatch(ctx, jobID, batch, now)
			mu.Lock()
			defer mu.Unlock()
			res.Declined = append(res.Declined, declined...)
			for _, a := range skipped {
				res.Skipped = append(res.Skipped, a.ID)
				changed[a.ID] = a
			}
			return err
		})
	}
	return changed, g.Wait()
}

// applicationAction is the name of an application's action in a decline
// transaction.
func applicationAction(id string) string { return "application:" + id }

// declineBatch declines the applications ids of the job (all PENDING when
// read) in one transaction, dropping those whose condition fails and
// trying the rest again (retry). It returns the IDs declined and the
// applications skipped, as the failure returned them (ALL_OLD).
func (s *Store) declineBatch(ctx context.Context, jobID string, ids []string, now time.Time) (declined []string, skipped []babysitter.Application, err error) {
	err = retry(ctx, "DeclinePending", func() error {
		t := newTxn(s.table)
		for _, id := range ids {
			e := newExpr()
			up := (&update{e: e}).
				Set(attrAppStatus, strValue(string(babysitter.ApplicationDeclined))).
				Set(attrUpdatedOn, timeValue(now))
			t.update(applicationAction(id), applicationItemKey(jobID, id), up, e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending))))
		}
		err := s.write(ctx, t)
		c := canceled(err)
		if c == nil {
			if err == nil {
				declined = ids
			}
			return err
		}
		var keep []string
		for _, id := range ids {
			if !c.failed(applicationAction(id)) {
				keep = append(keep, id) // still PENDING, or not known to have changed
				continue
			}
			// An application is never deleted, so the failure returns it.
			a, err := decodeApplication(c.item(applicationAction(id)))
			if err != nil {
				return err
			}
			skipped = append(skipped, a)
		}
		switch {
		case len(keep) == 0:
			return nil // none is PENDING any more
		case len(keep) == len(ids) && !c.contended():
			return err // canceled for a reason that is none of the above
		}
		ids = keep
		return again(c)
	})
	return declined, skipped, err
}

// DueDeclines reads every outbox shard (strongly consistent Queries, run
// concurrently) and returns up to limit jobs whose declines have been due
// since before the given time, oldest first.
func (s *Store) DueDeclines(ctx context.Context, before time.Time, limit int) ([]string, error) {
	due, err := dueItems(ctx, s, prefixDue, before, limit, "outbox item", func(o outboxItem) (string, string) { return o.Due, o.JobID })
	if err != nil {
		return nil, s.mapError("DueDeclines", err)
	}
	ids := make([]string, len(due))
	for i, o := range due {
		ids[i] = o.JobID
	}
	return ids, nil
}

// dueItems reads the dueShards partitions prefix<0–3> of an outbox
// (strongly consistent Queries, run concurrently, filtered on due <
// before) and returns up to limit of their items, decoded as T (what
// names it), sorted by what order gives: the due time (dueTime's strings
// sort as the times do), then an ID.
func dueItems[T any](ctx context.Context, s *Store, prefix string, before time.Time, limit int, what string, order func(T) (due, id string)) ([]T, error) {
	var (
		mu  sync.Mutex
		all []T
	)
	g, gctx := errgroup.WithContext(ctx)
	for shard := range dueShards {
		g.Go(func() error {
			e := newExpr()
			in := &dynamodb.QueryInput{
				TableName:                 aws.String(s.table),
				KeyConditionExpression:    aws.String(e.eq(attrPK, strValue(prefix+strconv.Itoa(shard)))),
				FilterExpression:          aws.String(e.n(attrDueTime) + " < " + e.sv(dueTime(before))),
				ExpressionAttributeNames:  e.Names(),
				ExpressionAttributeValues: e.Values(),
				ConsistentRead:            aws.Bool(true),
			}
			p := dynamodb.NewQueryPaginator(s.client, in)
			for p.HasMorePages() {
				out, err := p.NextPage(gctx)
				if err != nil {
					return err
				}
				for _, item := range out.Items {
					v, err := decodeItem[T](item, what)
					if err != nil {
						return err
					}
					mu.Lock()
					all = append(all, v)
					mu.Unlock()
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b T) int {
		ad, aid := order(a)
		bd, bid := order(b)
		return cmp.Or(cmp.Compare(ad, bd), cmp.Compare(aid, bid))
	})
	return all[:min(limit, len(all))], nil
}
