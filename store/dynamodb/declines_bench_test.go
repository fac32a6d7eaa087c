package dynamodb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
)

// BenchmarkDeclineWrites compares, side by side on the same DynamoDB Local,
// the two ways issue 14 allows to write the declines of one job's N
// PENDING applications once they are read:
//
//   - each: one conditional UpdateItem per application, 16 in flight;
//   - tx100/cK: TransactWriteItems of up to 100 conditional Updates, K
//     transactions in flight (DeclinePending does tx100/c4).
//
// Each iteration seeds a fresh job with N PENDING applications (not
// timed) and declines them all. Run with
//
//	go test -run '^$' -bench DeclineWrites -benchtime 5x -count 3 ./store/dynamodb/
//
// It reports ms per job and the write units each way costs by DynamoDB's
// pricing (a transactional write counts double; every application item
// is also in the byUser index, one more unit per write).
func BenchmarkDeclineWrites(b *testing.B) {
	client := testenv.DynamoDBClient(b)
	table := testenv.UniqueName(b, "declbench")
	if err := CreateTable(b.Context(), client, table); err != nil {
		b.Fatal(err)
	}
	s := New(client, table)
	for _, n := range []int{100, 1000} {
		for _, v := range []struct {
			name string
			wcu  float64 // per application
			run  func(ctx context.Context, apps []babysitter.Application) error
		}{
			{"each", 1 + 1, func(ctx context.Context, apps []babysitter.Application) error { return s.declineEach(ctx, apps, 16) }},
			{"tx100/c1", 2 + 1, func(ctx context.Context, apps []babysitter.Application) error { return s.declineTx(ctx, apps, 1) }},
			{"tx100/c4", 2 + 1, func(ctx context.Context, apps []babysitter.Application) error {
				var res babysitter.DeclineResult
				_, err := s.declineAll(ctx, apps[0].JobID, ids(apps), time.Now(), &res) // what DeclinePending does
				return err
			}},
			{"tx100/c10", 2 + 1, func(ctx context.Context, apps []babysitter.Application) error { return s.declineTx(ctx, apps, 10) }},
		} {
			b.Run(fmt.Sprintf("N=%d/%s", n, v.name), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					apps := seedPending(b, client, table, n)
					b.StartTimer()
					if err := v.run(b.Context(), apps); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/job")
				b.ReportMetric(v.wcu*float64(n), "WCU/job")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// declineEach is the first alternative BenchmarkDeclineWrites measures:
// one conditional UpdateItem per application, conc at a time.
func (s *Store) declineEach(ctx context.Context, apps []babysitter.Application, conc int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, a := range apps {
		g.Go(func() error {
			e := newExpr()
			up := (&update{e: e}).
				Set(attrAppStatus, strValue(string(babysitter.ApplicationDeclined))).
				Set(attrUpdatedOn, timeValue(time.Now()))
			_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(s.table),
				Key:                       applicationItemKey(a.JobID, a.ID),
				UpdateExpression:          aws.String(up.String()),
				ConditionExpression:       aws.String(e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending)))),
				ExpressionAttributeNames:  e.Names(),
				ExpressionAttributeValues: e.Values(),
			})
			return err
		})
	}
	return g.Wait()
}

func ids(apps []babysitter.Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.ID
	}
	return out
}

// declineTx is the other alternative BenchmarkDeclineWrites measures:
// TransactWriteItems of up to 100 conditional Updates, conc at a time.
func (s *Store) declineTx(ctx context.Context, apps []babysitter.Application, conc int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for start := 0; start < len(apps); start += 100 {
		batch := apps[start:min(start+100, len(apps))]
		g.Go(func() error {
			t := newTxn(s.table)
			for _, a := range batch {
				e := newExpr()
				up := (&update{e: e}).
					Set(attrAppStatus, strValue(string(babysitter.ApplicationDeclined))).
					Set(attrUpdatedOn, timeValue(time.Now()))
				t.update("application:"+a.ID, applicationItemKey(a.JobID, a.ID), up, e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending))))
			}
			return s.write(ctx, t)
		})
	}
	return g.Wait()
}

// seedPending writes a CLOSED job with n PENDING applications, 25 items a
// BatchWriteItem, and returns the applications.
func seedPending(b *testing.B, client *dynamodb.Client, table string, n int) []babysitter.Application {
	b.Helper()
	j := babysitter.Job{ID: uuid.Must(uuid.NewV7()).String(), ParentUsername: "bench-parent", Status: babysitter.JobClosed, Version: 1}
	jobAV, err := encodeJob(j)
	if err != nil {
		b.Fatal(err)
	}
	items := []map[string]types.AttributeValue{jobAV}
	apps := make([]babysitter.Application, n)
	for i := range apps {
		apps[i] = babysitter.Application{ID: uuid.Must(uuid.NewV7()).String(), JobID: j.ID, NannyUsername: fmt.Sprintf("bench-nanny-%d", i),
			Message: "Happy to help.", Status: babysitter.ApplicationPending, CreatedOn: time.Now(), UpdatedOn: time.Now()}
		item, err := encodeApplication(apps[i])
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, item)
	}
	g, ctx := errgroup.WithContext(b.Context())
	g.SetLimit(8)
	for start := 0; start < len(items); start += 25 {
		chunk := items[start:min(start+25, len(items))]
		g.Go(func() error {
			reqs := make([]types.WriteRequest, len(chunk))
			for i, item := range chunk {
				reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
			}
			for len(reqs) > 0 {
				out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
				if err != nil {
					return err
				}
				reqs = out.UnprocessedItems[table]
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return apps
}
