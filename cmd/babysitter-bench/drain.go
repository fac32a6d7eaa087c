package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// drain fills the decline queue with M messages (a booking with M other
// applications, made while no consumer runs), then times a Poller with 1,
// 4, 16 workers draining it, beside DynamoDB's own write rate at the same
// concurrency: M bare UpdateItem calls, and M/10 TransactWriteItems of 20
// updates (the library's grouping).
func drain(ctx context.Context, e *env, rep *report) error {
	m := e.sz.drainMsgs
	// levels[0] is an unrecorded warm-up drain (DynamoDB Local's JIT above
	// all), so the first recorded level is not the slow one.
	levels := append([]int{4}, e.sz.drainConc...)
	e.prog.phase("5 drain: fixtures")
	nannies, err := e.nannies(ctx, m+1)
	if err != nil {
		return err
	}
	main, err := e.mainWorld(ctx)
	if err != nil {
		return err
	}
	w, err := main.on(ctx, "drain")
	if err != nil {
		return err
	}
	parent, err := w.user(ctx, babysitter.RoleParent)
	if err != nil {
		return err
	}
	jobs := make([]babysitter.Job, len(levels))
	apps := make([][]babysitter.Application, len(levels))
	var seeded atomic.Int64
	e.prog.phase("5 drain: seeding %d jobs × %d applications", len(levels), m+1)
	err = parallel(ctx, len(levels), len(levels), func(ctx context.Context, k int) error {
		j, err := w.job(ctx, parent)
		if err != nil {
			return err
		}
		jobs[k] = j
		apps[k] = make([]babysitter.Application, m+1)
		return parallel(ctx, m+1, 2, func(ctx context.Context, i int) error {
			var err error
			apps[k][i], err = w.svc.ApplyToJob(ctx, nannies[i], j.ID, babysitter.NewApplication{})
			e.prog.step("%d/%d", seeded.Add(1), len(levels)*(m+1))
			return err
		})
	})
	if err != nil {
		return err
	}
	var scratch []map[string]types.AttributeValue
	if e.backend == backendAWS {
		if scratch, err = seedScratch(ctx, e, main.table, 2*m); err != nil {
			return err
		}
	}

	t := &table{head: []string{"consumers", "messages", "drain time", "messages/s", "bare UpdateItem/s", "item writes/s in 20-update transactions",
		"messages/s ÷ UpdateItem/s", "per message: DynamoDB", "per message: SQS", "batch p50"}}
	if e.backend == backendMemory {
		t.head[7], t.head[8] = "per message: Store", "per message: Queue"
	}
	cpuT := &table{head: []string{"consumers", "CPU per message"}}
	for k, c := range levels {
		warm := k == 0
		e.prog.phase("5 drain: %d consumers", c)
		if warm {
			e.prog.phase("5 drain: warm-up")
		}
		e.prog.step("queueing %d declines", m)
		// A fresh queue per level: the previous level's Poller was stopped
		// with long polls pending, and fauxqs still hands new messages to
		// those abandoned polls, hiding them for a visibility timeout.
		w, err := main.on(ctx, fmt.Sprintf("drain%d", c))
		if err != nil {
			return err
		}
		if _, err := w.svc.BookNanny(ctx, parent, jobs[k].ID, apps[k][0].ID); err != nil {
			return err
		}
		name := fmt.Sprintf("drain: %d messages, Poller with %d workers", m, c)
		if warm {
			name = "drain: warm-up"
		}
		done, at := w.store.arm(m)
		before, cpu0 := e.snapshot(), e.cpu.sample()
		t0 := time.Now()
		stop := w.startPoller(ctx, c, func(h babysitter.BatchHandler) babysitter.BatchHandler {
			return func(ctx context.Context, msgs []babysitter.Message) []string {
				t := time.Now()
				failed := h(ctx, msgs)
				if !warm {
					e.rec.addLatency(name, time.Since(t))
				}
				return failed
			}
		})
		e.prog.step("draining")
		werr := w.store.waitFor(ctx, done, 5*time.Minute)
		elapsed := at().Sub(t0)
		serr := w.settle(ctx)
		stop()
		if werr != nil {
			return werr
		}
		if serr != nil {
			return serr
		}
		d := withoutLen(e.snapshot().sub(before))
		cpu := e.cpu.sample().since(cpu0)
		if warm {
			continue
		}
		e.rec.addCalls(name, m, d)
		rate := float64(m) / elapsed.Seconds()

		ceiling, twi, cratio := "–", "–", "–"
		if e.backend == backendAWS {
			e.prog.step("bare UpdateItem ceiling")
			r, err := updateCeiling(ctx, e, main.table, scratch[:m], c, k)
			if err != nil {
				return err
			}
			e.prog.step("TransactWriteItems ceiling")
			tw, err := transactCeiling(ctx, e, main.table, scratch, c, k)
			if err != nil {
				return err
			}
			ceiling, twi, cratio = fmt.Sprintf("%.0f", r), fmt.Sprintf("%.0f", tw), ratio(rate/r)
		}
		batch := e.rec.get(name)
		t.add(fmt.Sprint(c), fmt.Sprint(m), dur(elapsed), fmt.Sprintf("%.0f", rate), ceiling, twi, cratio,
			perOp(int64(total(d.store)), m), perOp(int64(total(d.queue)), m), dur(percentile(batch.lat, 0.5)))
		cpuT.add(fmt.Sprint(c), e.cpu.format(cpu, m))
	}
	rep.add(section{
		title: "5. Decline drain",
		text: []string{
			fmt.Sprintf("%d decline messages already in the queue (one booking of a job with %d applications, made "+
				"while no consumer ran); a Poller running Decliner.HandleBatch with 1, 4, 16 workers (batches of up to 10) "+
				"drains them; timed from the Poller's start to the last decline applied. The ceiling is %d bare "+
				"UpdateItem calls (one item each, no condition) made by as many goroutines on the same DynamoDB: "+
				"what any consumer declining one application per request could at best reach.", m, m+1, m),
			"Each handled batch costs 1 BatchGetItem (job + applications), 1 TransactWriteItems (per application: the " +
				"conditional decline and the nanny's pendingApplications counter, two item writes) and 1 DeleteMessageBatch. " +
				"The second ceiling is DynamoDB's write rate when the writes come grouped as the library groups them: " +
				"TransactWriteItems of 20 unconditional updates, at the same concurrency; a decline costs two of those item writes.",
		},
		tables: []*table{t, cpuT},
	})
	return nil
}

// transactCeiling makes len(keys)/20 TransactWriteItems of 20 updates
// each, with conc goroutines, and returns the rate in item writes per
// second. No two transactions of one call share an item.
func transactCeiling(ctx context.Context, e *env, table string, keys []map[string]types.AttributeValue, conc, round int) (float64, error) {
	const per = 20
	value := &types.AttributeValueMemberS{Value: fmt.Sprintf("TX-%d", round)}
	name := fmt.Sprintf("drain ceiling: TransactWriteItems of %d updates, %d goroutines", per, conc)
	n := len(keys) / per
	var next atomic.Int64
	before := e.snapshot()
	t0 := time.Now()
	err := parallel(ctx, conc, conc, func(ctx context.Context, _ int) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return nil
			}
			items := make([]types.TransactWriteItem, per)
			for k := range items {
				items[k] = types.TransactWriteItem{Update: &types.Update{
					TableName:                 aws.String(table),
					Key:                       keys[i*per+k],
					UpdateExpression:          aws.String("SET #s = :s"),
					ExpressionAttributeNames:  map[string]string{"#s": "status"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":s": value},
				}}
			}
			t := time.Now()
			if _, err := e.ddb.TransactWriteItems(ctx, &awsddb.TransactWriteItemsInput{TransactItems: items}); err != nil {
				return err
			}
			e.rec.addLatency(name, time.Since(t))
		}
	})
	elapsed := time.Since(t0)
	if err != nil {
		return 0, err
	}
	e.rec.addCalls(name, n, e.snapshot().sub(before))
	return float64(n*per) / elapsed.Seconds(), nil
}

// seedScratch writes m plain items (no index attributes) for the
// UpdateItem ceiling and returns their keys.
func seedScratch(ctx context.Context, e *env, table string, m int) ([]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, m)
	for i := range keys {
		k := fmt.Sprintf("BENCH#%s#%d", e.runID, i)
		keys[i] = tableKey(k, k)
	}
	err := parallel(ctx, (m+24)/25, 4, func(ctx context.Context, b int) error {
		var reqs []types.WriteRequest
		for _, k := range keys[b*25 : min((b+1)*25, m)] {
			item := map[string]types.AttributeValue{"PK": k["PK"], "SK": k["SK"],
				"status": &types.AttributeValueMemberS{Value: "PENDING"}}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt > 10 {
				return fmt.Errorf("BatchWriteItem: %d items unprocessed", len(reqs))
			}
			out, err := e.ddb.BatchWriteItem(ctx, &awsddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[table]
		}
		return nil
	})
	return keys, err
}

// updateCeiling makes one UpdateItem per key with conc goroutines and
// returns the rate in updates per second.
func updateCeiling(ctx context.Context, e *env, table string, keys []map[string]types.AttributeValue, conc, round int) (float64, error) {
	value := &types.AttributeValueMemberS{Value: fmt.Sprintf("DECLINED-%d", round)}
	name := fmt.Sprintf("drain ceiling: bare UpdateItem, %d goroutines", conc)
	var next atomic.Int64
	before := e.snapshot()
	t0 := time.Now()
	err := parallel(ctx, conc, conc, func(ctx context.Context, _ int) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(keys) {
				return nil
			}
			t := time.Now()
			if _, err := e.ddb.UpdateItem(ctx, &awsddb.UpdateItemInput{
				TableName:                 aws.String(table),
				Key:                       keys[i],
				UpdateExpression:          aws.String("SET #s = :s"),
				ExpressionAttributeNames:  map[string]string{"#s": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":s": value},
			}); err != nil {
				return err
			}
			e.rec.addLatency(name, time.Since(t))
		}
	})
	elapsed := time.Since(t0)
	if err != nil {
		return 0, err
	}
	e.rec.addCalls(name, len(keys), e.snapshot().sub(before))
	return float64(len(keys)) / elapsed.Seconds(), nil
}
