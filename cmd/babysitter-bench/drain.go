package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

// drainWriter is one way of writing a job's declines that the drain
// scenario times: the library's, or DynamoDB's bare writes.
type drainWriter struct {
	name     string
	inFlight int
	// flip moves the applications from one status to the other with the
	// decline's conditional update (aws only; nil for the library).
	flip  func(ctx context.Context, e *env, table string, apps []babysitter.Application, from, to string, conc int) error
	lat   []time.Duration
	calls counts
	cpu   cpuSample
	reqs  reqLog // each request's latency
}

// drain times the declines of one job of N PENDING applications through a
// Poller — one message, Decliner.HandleBatch, DeclinePending — from the
// Poller's start to the last decline applied, beside DynamoDB's bare write
// rate for the same N conditional updates of the same items: one
// UpdateItem each, and TransactWriteItems of 100, at the library's
// concurrency (4 transactions in flight) and around it. The bare writers
// flip the applications PENDING ↔ DECLINED (the decline's update and
// condition, both ways), so one seeded job serves them all and is PENDING
// again when the library declines it.
func drain(ctx context.Context, e *env, rep *report) error {
	n := e.sz.drainApps
	e.prog.phase("5 drain: fixtures")
	nannies, err := e.nannies(ctx, n+1)
	if err != nil {
		return err
	}
	main, err := e.mainWorld(ctx)
	if err != nil {
		return err
	}
	parent, err := main.user(ctx, babysitter.RoleParent)
	if err != nil {
		return err
	}
	library := &drainWriter{name: "library: Poller → Decliner.HandleBatch → DeclinePending (TransactWriteItems of ≤ 100)", inFlight: 4}
	var bare []*drainWriter
	if e.backend == backendAWS {
		bare = []*drainWriter{
			{name: "bare TransactWriteItems of 100 conditional Updates", inFlight: 4, flip: flipTransact},
			{name: "bare TransactWriteItems of 100 conditional Updates", inFlight: 1, flip: flipTransact},
			{name: "bare conditional UpdateItem, one per application", inFlight: 4, flip: flipUpdate},
			{name: "bare conditional UpdateItem, one per application", inFlight: 16, flip: flipUpdate},
		}
	}
	const pending, declined = string(babysitter.ApplicationPending), string(babysitter.ApplicationDeclined)

	for r := range e.sz.drainReps {
		// A fresh queue per run: a stopped Poller leaves long polls pending,
		// and fauxqs still hands new messages to those abandoned polls,
		// hiding them for a visibility timeout.
		w, err := main.on(ctx, "drain"+strconv.Itoa(r))
		if err != nil {
			return err
		}
		e.prog.phase("5 drain run %d/%d: seeding %d applications", r+1, e.sz.drainReps, n+1)
		j, err := w.job(ctx, parent)
		if err != nil {
			return err
		}
		apps, err := w.applyAll(ctx, j.ID, nannies[:n+1], 4)
		if err != nil {
			return err
		}
		others := apps[1:] // apps[0] is the one booked
		if r == 0 && len(bare) > 0 {
			// Warm-up, unrecorded: DynamoDB Local's JIT above all.
			e.prog.phase("5 drain: warm-up")
			if err := flipTransact(ctx, e, w.table, others, pending, declined, 4); err != nil {
				return err
			}
			if err := flipUpdate(ctx, e, w.table, others, declined, pending, 4); err != nil {
				return err
			}
		}
		state := pending
		for _, bw := range bare {
			e.prog.phase("5 drain run %d/%d: %s, %d in flight", r+1, e.sz.drainReps, bw.name, bw.inFlight)
			to := map[string]string{pending: declined, declined: pending}[state]
			before, cpu0 := e.snapshot(), e.cpu.sample()
			t0 := time.Now()
			if err := bw.flip(withReqLog(ctx, &bw.reqs), e, w.table, others, state, to, bw.inFlight); err != nil {
				return fmt.Errorf("%s: %w", bw.name, err)
			}
			elapsed := time.Since(t0)
			bw.record(e, n, elapsed, e.snapshot().sub(before), e.cpu.sample().since(cpu0))
			state = to
		}
		if state != pending {
			return fmt.Errorf("drain: the bare writers left the applications %s", state) // an odd number of them
		}

		e.prog.phase("5 drain run %d/%d: library", r+1, e.sz.drainReps)
		// Booked while no consumer runs: the job's message waits in the queue.
		if _, err := w.svc.BookNanny(ctx, parent, j.ID, apps[0].ID); err != nil {
			return err
		}
		done, at := w.store.arm(n)
		before, cpu0 := e.snapshot(), e.cpu.sample()
		t0 := time.Now()
		stop := w.startPoller(withReqLog(ctx, &library.reqs), 1, nil)
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
		library.record(e, n, elapsed, withoutLen(e.snapshot().sub(before)), e.cpu.sample().since(cpu0))
	}

	libRate := float64(n) / percentile(library.lat, 0.5).Seconds()
	t := &table{head: []string{"writer", "in flight", "runs", "declines/run", "time p50", "declines/s", "library ÷ this",
		"DynamoDB requests/run", "DynamoDB CPU per decline", "requests (p50 each)"}}
	if e.backend == backendMemory {
		t.head[7], t.head[8] = "Store calls/run", "CPU per decline"
	}
	for _, dw := range append([]*drainWriter{library}, bare...) {
		rate := float64(n) / percentile(dw.lat, 0.5).Seconds()
		cpu := "–"
		if i := e.cpu.index("DynamoDB"); i >= 0 && dw.cpu.ok {
			cpu = dur(dw.cpu.t[i] / time.Duration(n*len(dw.lat)))
		} else if e.backend == backendMemory && dw.cpu.ok {
			cpu = dur(dw.cpu.t[0] / time.Duration(n*len(dw.lat)))
		}
		t.add(dw.name, fmt.Sprint(dw.inFlight), fmt.Sprint(len(dw.lat)), fmt.Sprint(n), dur(percentile(dw.lat, 0.5)),
			fmt.Sprintf("%.0f", rate), ratio(libRate/rate), formatPer(dw.calls.store, len(dw.lat)), cpu, dw.reqs.p50s())
	}
	rep.add(section{
		title: "5. Decline drain: one job's declines against DynamoDB's bare writes",
		text: []string{
			fmt.Sprintf("One job with %d PENDING applications besides the one booked. Library: the job booked while no "+
				"consumer runs (its one message waits), then a Poller started; timed from the Poller's start until "+
				"DeclinePending returns with all %d declined — 1 ReceiveMessage, 1 consistent Query of the job's "+
				"partition, ⌈N/100⌉ TransactWriteItems of up to 100 conditional Updates (4 in flight), 1 DeleteItem of "+
				"the outbox item — plus the DeleteMessageBatch. Bare writers: the same %d applications flipped "+
				"PENDING ↔ DECLINED with the decline's own update and condition (SET jobApplicationStatus, updatedOn "+
				"IF jobApplicationStatus = the other), as one UpdateItem each or as TransactWriteItems of 100, at the "+
				"concurrency shown, built outside the timing. Medians of %d runs, the writers interleaved within each "+
				"run on that run's job; CPU from /proc (10 ms resolution).", n, n, n, e.sz.drainReps),
		},
		tables: []*table{t},
	})
	return nil
}

func (dw *drainWriter) record(e *env, n int, elapsed time.Duration, d counts, cpu cpuSample) {
	dw.lat = append(dw.lat, elapsed)
	dw.calls = dw.calls.add(d)
	dw.cpu = dw.cpu.add(cpu)
	e.rec.add(fmt.Sprintf("drain: %s, %d in flight (%d declines)", dw.name, dw.inFlight, n), 1, elapsed, d)
}

// declineUpdate is the decline's update of one application, from one
// status to the other, as store/dynamodb writes it.
func declineUpdate(table string, a babysitter.Application, from, to string, now string) *types.Update {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return &types.Update{
		TableName:                           aws.String(table),
		Key:                                 applicationItemKey(a.JobID, a.ID),
		UpdateExpression:                    aws.String("SET #st = :to, #up = :now"),
		ConditionExpression:                 aws.String("#st = :from"),
		ExpressionAttributeNames:            map[string]string{"#st": "jobApplicationStatus", "#up": "updatedOn"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":to": s(to), ":now": s(now), ":from": s(from)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// flipTransact writes the updates in TransactWriteItems of 100, conc at a
// time.
func flipTransact(ctx context.Context, e *env, table string, apps []babysitter.Application, from, to string, conc int) error {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var ins []*awsddb.TransactWriteItemsInput
	for start := 0; start < len(apps); start += 100 {
		in := &awsddb.TransactWriteItemsInput{ClientRequestToken: aws.String(uuid.NewString())}
		for _, a := range apps[start:min(start+100, len(apps))] {
			in.TransactItems = append(in.TransactItems, types.TransactWriteItem{Update: declineUpdate(table, a, from, to, now)})
		}
		ins = append(ins, in)
	}
	return parallelQueue(ctx, len(ins), conc, func(ctx context.Context, i int) error {
		_, err := e.ddb.TransactWriteItems(ctx, ins[i])
		return err
	})
}

// flipUpdate writes the updates as one UpdateItem each, conc at a time.
func flipUpdate(ctx context.Context, e *env, table string, apps []babysitter.Application, from, to string, conc int) error {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	ins := make([]*awsddb.UpdateItemInput, len(apps))
	for i, a := range apps {
		u := declineUpdate(table, a, from, to, now)
		ins[i] = &awsddb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
			ExpressionAttributeValues: u.ExpressionAttributeValues}
	}
	return parallelQueue(ctx, len(ins), conc, func(ctx context.Context, i int) error {
		_, err := e.ddb.UpdateItem(ctx, ins[i])
		return err
	})
}

// parallelQueue runs fn(0…n-1) on conc goroutines taking the next index
// as they go: no goroutine is started per item inside the timing.
func parallelQueue(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	return parallel(ctx, conc, conc, func(ctx context.Context, _ int) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return nil
			}
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
	})
}
