package main

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/babysitter-go/babysitter"
)

// rtCase is one Service operation of the round-trip scenario: the requests
// it must send (on each backend) and how to set up and make one call.
type rtCase struct {
	op    string
	actor string
	// ddb and sqs are the minimum DynamoDB and SQS requests (aws); store
	// and queue the Store and Queue calls (memory).
	ddb, sqs     map[string]int
	store, queue map[string]int
	// basis says where the minimum comes from.
	basis string
	// prepare builds the fixtures of one call, untimed, and returns it.
	prepare func(ctx context.Context, i int) (func(ctx context.Context) error, error)
}

// rtResult is a case's measured requests: the same in every iteration, or
// not (varies).
type rtResult struct {
	c      rtCase
	got    counts
	varies bool
}

// ok reports whether the requests equal the minimum on the backend.
func (r rtResult) ok(backend string) bool {
	want := r.c.want(backend)
	return !r.varies && maps.Equal(nonZero(r.got.store), want.store) && maps.Equal(nonZero(r.got.queue), want.queue)
}

func (c rtCase) want(backend string) counts {
	if backend == backendMemory {
		return counts{store: nonZero(c.store), queue: nonZero(c.queue)}
	}
	return counts{store: nonZero(c.ddb), queue: nonZero(c.sqs)}
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func one(api string) map[string]int { return map[string]int{api: 1} }

// The basis of the minimums. contract: DESIGN.md's round-trip contract
// states the count. Design: the contract states none; the figure is
// store/dynamodb's documented request
// plan, which the scenario holds the code to.
const (
	basisContract = "contract"
	basisDesign   = "design (store/dynamodb doc.go)"
	basisGuard    = "contract: 1 Query per page; + the Guard's GetItem of the actor, sent beside it (same round trip)"
)

func roundTrips(ctx context.Context, e *env, rep *report) error {
	e.prog.phase("1 round trips: fixtures")
	w, err := e.mainWorld(ctx)
	if err != nil {
		return err
	}
	parent, err := w.user(ctx, babysitter.RoleParent)
	if err != nil {
		return err
	}
	nannies, err := e.nannies(ctx, 26)
	if err != nil {
		return err
	}
	nanny := nannies[0]
	page := babysitter.PageRequest{}
	shared, err := w.job(ctx, parent)
	if err != nil {
		return err
	}
	if _, err := w.applyAll(ctx, shared.ID, nannies[:10], 4); err != nil {
		return err
	}
	editable, err := w.job(ctx, parent)
	if err != nil {
		return err
	}
	// ListJobsNear sends one Query per geohash range covering the circle;
	// the Service computes the ranges, the store wrapper counts them.
	const nearKm = 10
	if _, err := w.svc.ListJobsNear(ctx, nanny, 52.5, 13.4, nearKm, page); err != nil {
		return err
	}
	ranges := int(w.store.ranges.Load())
	// completed makes a COMPLETED job whose booked nanny is nanny.
	completed := func(ctx context.Context) (babysitter.Job, error) {
		j, err := w.job(ctx, parent)
		if err != nil {
			return j, err
		}
		a, err := w.svc.ApplyToJob(ctx, nanny, j.ID, babysitter.NewApplication{})
		if err != nil {
			return j, err
		}
		if _, err := w.svc.BookNanny(ctx, parent, j.ID, a.ID); err != nil {
			return j, err
		}
		return w.svc.CompleteJob(ctx, parent, j.ID)
	}
	review := babysitter.NewReview{Rating: 5, Text: "Punctual and kind.", Answers: map[string]bool{}}
	for _, q := range babysitter.Questions(babysitter.ReviewOfNanny) {
		review.Answers[q] = true
	}

	// bookable makes a job with n+1 applications (n others than the one
	// booked) and returns it with the applications.
	bookable := func(ctx context.Context, n int) (babysitter.Job, []babysitter.Application, error) {
		j, err := w.job(ctx, parent)
		if err != nil {
			return j, nil, err
		}
		apps, err := w.applyAll(ctx, j.ID, nannies[:n+1], 4)
		return j, apps, err
	}
	noop := func(fn func(ctx context.Context) error) func(context.Context, int) (func(context.Context) error, error) {
		return func(context.Context, int) (func(context.Context) error, error) { return fn, nil }
	}
	book := func(n int) rtCase {
		return rtCase{
			op: "BookNanny (N=" + strconv.Itoa(n) + " others)", actor: "parent",
			ddb: map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, sqs: one("SendMessageBatch"),
			store: one("BookNanny"), queue: one("Send"),
			basis: "contract: 1 transaction + the reads it needs + at most ⌈N/10⌉ sends; design: 1 message per job, whatever N (see below)",
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, apps, err := bookable(ctx, n)
				return func(ctx context.Context) error {
					b, err := w.svc.BookNanny(ctx, parent, j.ID, apps[0].ID)
					if err == nil && b.DeclinesQueued != 1 {
						err = fmt.Errorf("queued %d decline messages, want 1 (the job's)", b.DeclinesQueued)
					}
					return err
				}, err
			},
		}
	}

	cases := []rtCase{
		{
			op: "CreateUser", actor: "the new nanny",
			ddb: one("TransactWriteItems"), store: one("CreateUser"), basis: basisContract,
			prepare: func(context.Context, int) (func(context.Context) error, error) {
				a := babysitter.Actor{Username: e.username("n"), Role: babysitter.RoleNanny}
				return func(ctx context.Context) error {
					_, err := w.svc.CreateUser(ctx, a, newUser(a.Username, babysitter.UserNanny))
					return err
				}, nil
			},
		},
		{
			op: "GetUser", actor: "a nanny (public profile)",
			ddb: one("GetItem"), store: one("GetUser"), basis: basisContract,
			prepare: noop(func(ctx context.Context) error { _, err := w.svc.GetUser(ctx, nanny, parent.Username); return err }),
		},
		{
			op: "UpdateUser", actor: "self",
			ddb: map[string]int{"GetItem": 1, "UpdateItem": 1}, store: map[string]int{"GetUser": 1, "UpdateUser": 1},
			basis: basisDesign + ": read the version, 1 conditional write",
			prepare: func(_ context.Context, i int) (func(context.Context) error, error) {
				about := "Edited " + strconv.Itoa(i)
				return func(ctx context.Context) error {
					_, err := w.svc.UpdateUser(ctx, parent, parent.Username, babysitter.UserPatch{About: &about})
					return err
				}, nil
			},
		},
		{
			op: "UpdateUserStatus", actor: "admin",
			ddb: one("UpdateItem"), store: one("SetUserStatus"), basis: basisContract,
			prepare: func(_ context.Context, i int) (func(context.Context) error, error) {
				st := []babysitter.AccountStatus{babysitter.StatusVerified, babysitter.StatusUnverified}[i%2]
				return func(ctx context.Context) error {
					_, err := w.svc.UpdateUserStatus(ctx, admin, nannies[25].Username, babysitter.StatusChange{Status: st})
					return err
				}, nil
			},
		},
		{
			op: "DeleteUser", actor: "self",
			ddb: map[string]int{"GetItem": 1, "TransactWriteItems": 1}, store: one("DeleteUser"), basis: basisDesign,
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				a, err := w.user(ctx, babysitter.RoleNanny)
				return func(ctx context.Context) error { return w.svc.DeleteUser(ctx, a, a.Username) }, err
			},
		},
		{
			op: "ListUsers (NANNY, first page)", actor: "parent",
			ddb: map[string]int{"Query": 1, "GetItem": 1}, store: one("ListUsers"), basis: basisGuard,
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListUsers(ctx, parent, babysitter.UserNanny, page)
				return err
			}),
		},
		{
			op: "CreateJob", actor: "parent",
			ddb: one("TransactWriteItems"), store: one("CreateJob"), basis: basisContract,
			prepare: noop(func(ctx context.Context) error { _, err := w.job(ctx, parent); return err }),
		},
		{
			op: "GetJob", actor: "nanny",
			ddb: one("BatchGetItem"), store: one("GetJob"), basis: basisContract + " (1 read: the job and the actor's account in one BatchGetItem)",
			prepare: noop(func(ctx context.Context) error { _, err := w.svc.GetJob(ctx, nanny, shared.ID); return err }),
		},
		{
			op: "UpdateJob", actor: "parent",
			ddb: map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, store: map[string]int{"GetJob": 1, "UpdateJob": 1},
			basis: basisDesign + ": read the version, 1 conditional write",
			prepare: func(_ context.Context, i int) (func(context.Context) error, error) {
				d := "Edited " + strconv.Itoa(i)
				return func(ctx context.Context) error {
					_, err := w.svc.UpdateJob(ctx, parent, editable.ID, babysitter.JobPatch{Description: &d})
					return err
				}, nil
			},
		},
		{
			op: "CancelJob (3 applications)", actor: "parent",
			ddb: map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, sqs: one("SendMessageBatch"),
			store: one("TransitionJob"), queue: one("Send"),
			basis: basisDesign + ": read, 1 transaction (with the outbox Put), the job's decline message",
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, _, err := bookable(ctx, 2)
				return func(ctx context.Context) error { _, err := w.svc.CancelJob(ctx, parent, j.ID); return err }, err
			},
		},
		{
			op: "ListJobsByStatus (OPEN, first page)", actor: "nanny",
			ddb: map[string]int{"Query": 1, "GetItem": 1}, store: one("ListJobsByStatus"), basis: basisGuard,
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListJobsByStatus(ctx, nanny, babysitter.JobOpen, page)
				return err
			}),
		},
		{
			op: "ListJobsByParent (first page)", actor: "the parent",
			ddb: one("Query"), store: one("ListJobsByParent"), basis: basisContract + " (the parent's item is in the Query)",
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListJobsByParent(ctx, parent, parent.Username, page)
				return err
			}),
		},
		{
			op: "ApplyToJob", actor: "nanny",
			ddb: one("TransactWriteItems"), store: one("ApplyToJob"), basis: basisContract,
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, err := w.job(ctx, parent)
				return func(ctx context.Context) error {
					_, err := w.svc.ApplyToJob(ctx, nanny, j.ID, babysitter.NewApplication{})
					return err
				}, err
			},
		},
		{
			op: "WithdrawApplication", actor: "the nanny",
			ddb: map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, store: one("WithdrawApplication"), basis: basisDesign,
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, err := w.job(ctx, parent)
				if err != nil {
					return nil, err
				}
				a, err := w.svc.ApplyToJob(ctx, nanny, j.ID, babysitter.NewApplication{})
				return func(ctx context.Context) error {
					_, err := w.svc.WithdrawApplication(ctx, nanny, j.ID, a.ID)
					return err
				}, err
			},
		},
		{
			op: "ListApplicationsForJob (first page)", actor: "the parent",
			ddb: map[string]int{"Query": 1, "GetItem": 1}, store: one("ListApplicationsForJob"), basis: basisGuard,
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListApplicationsForJob(ctx, parent, shared.ID, page)
				return err
			}),
		},
		{
			op: "ListJobsAppliedTo (first page)", actor: "the nanny",
			ddb: one("Query"), store: one("ListJobsAppliedTo"), basis: basisContract + " (the nanny's item is in the Query)",
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListJobsAppliedTo(ctx, nanny, nanny.Username, page)
				return err
			}),
		},
		{
			op: "ListJobsNear (" + strconv.Itoa(nearKm) + " km, " + strconv.Itoa(ranges) + " geohash ranges)", actor: "nanny",
			ddb: map[string]int{"Query": ranges, "GetItem": 1}, store: one("ListOpenJobsInRanges"),
			basis: basisDesign + ": 1 Query per covering range, concurrently, + the Guard's GetItem beside them",
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListJobsNear(ctx, nanny, 52.5, 13.4, nearKm, page)
				return err
			}),
		},
		book(10),
		book(25),
		{
			op: "ReconcileJob (10 PENDING)", actor: "parent",
			ddb: one("BatchGetItem"), sqs: one("SendMessageBatch"),
			store: one("GetJob"), queue: one("Send"),
			basis: basisDesign + ": read the job, send the job's decline message",
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, apps, err := bookable(ctx, 10)
				if err != nil {
					return nil, err
				}
				if _, err := w.svc.BookNanny(ctx, parent, j.ID, apps[0].ID); err != nil {
					return nil, err
				}
				return func(ctx context.Context) error {
					n, err := w.svc.ReconcileJob(ctx, parent, j.ID)
					if err == nil && n != 1 {
						err = fmt.Errorf("reconcile sent %d messages, want 1 (the job's)", n)
					}
					return err
				}, nil
			},
		},
		{
			op: "CompleteJob", actor: "parent",
			ddb: map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, store: one("TransitionJob"),
			basis: basisDesign + ": TransitionJob with a Guard reads, then 1 transaction",
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, err := w.job(ctx, parent)
				if err != nil {
					return nil, err
				}
				a, err := w.svc.ApplyToJob(ctx, nanny, j.ID, babysitter.NewApplication{})
				if err != nil {
					return nil, err
				}
				if _, err := w.svc.BookNanny(ctx, parent, j.ID, a.ID); err != nil {
					return nil, err
				}
				return func(ctx context.Context) error { _, err := w.svc.CompleteJob(ctx, parent, j.ID); return err }, nil
			},
		},
		{
			op: "LeaveReview", actor: "the parent",
			ddb: map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, store: map[string]int{"GetJob": 1, "CreateReview": 1},
			basis: "contract: review and aggregate in 1 atomic write; + the read that finds the reviewee",
			prepare: func(ctx context.Context, _ int) (func(context.Context) error, error) {
				j, err := completed(ctx)
				return func(ctx context.Context) error { _, err := w.svc.LeaveReview(ctx, parent, j.ID, review); return err }, err
			},
		},
		{
			op: "ListReviews (first page)", actor: "anyone",
			ddb: one("Query"), store: one("ListReviews"), basis: basisDesign,
			prepare: noop(func(ctx context.Context) error {
				_, err := w.svc.ListReviews(ctx, parent, nanny.Username, page)
				return err
			}),
		},
		{
			op: "Decliner.HandleBatch (1 job, 10 other applications)", actor: "consumer",
			ddb: map[string]int{"Query": 1, "TransactWriteItems": 1, "DeleteItem": 1}, store: map[string]int{"DeclinePending": 1, "ClearDeclines": 1},
			basis: basisDesign + ": 1 consistent Query per 1 MB of the job's partition + 1 TransactWriteItems per 100 PENDING + the outbox DeleteItem (ClearDeclines, after the notifications)",
			prepare: func(ctx context.Context, i int) (func(context.Context) error, error) {
				j, apps, err := bookable(ctx, 10)
				if err != nil {
					return nil, err
				}
				if _, err := w.svc.BookNanny(ctx, parent, j.ID, apps[0].ID); err != nil {
					return nil, err
				}
				msgs := []babysitter.Message{babysitter.DeclineMessage(j.ID)}
				msgs[0].ID = fmt.Sprintf("m%d", i)
				return func(ctx context.Context) error {
					if failed := w.decliner.HandleBatch(ctx, msgs); len(failed) > 0 {
						return fmt.Errorf("%d declines failed", len(failed))
					}
					return nil
				}, nil
			},
		},
	}

	// The first calls of each operation are not timed (but are counted):
	// they warm up the servers' code paths (DynamoDB Local's JIT above
	// all), so the p50 is not a cold start's.
	iters, warm := e.sz.iters, min(e.sz.iters, 3)
	var results []rtResult
	for ci, c := range cases {
		e.prog.phase("1 round trips: %s (%d/%d)", c.op, ci+1, len(cases))
		res := rtResult{c: c}
		name := "rt: " + c.op
		for i := range warm + iters {
			e.prog.step("%d/%d", i+1, warm+iters)
			call, err := c.prepare(ctx, i)
			if err != nil {
				return fmt.Errorf("%s: fixtures: %w", c.op, err)
			}
			before := e.snapshot()
			t0 := time.Now()
			err = call(ctx)
			lat := time.Since(t0)
			d := e.snapshot().sub(before)
			if err != nil {
				return fmt.Errorf("%s: %w", c.op, err)
			}
			if i >= warm {
				e.rec.add(name, 1, lat, d)
			}
			if i == 0 {
				res.got = d
			} else if !maps.Equal(nonZero(d.store), nonZero(res.got.store)) || !maps.Equal(nonZero(d.queue), nonZero(res.got.queue)) {
				res.varies = true
			}
		}
		results = append(results, res)
	}

	// The section.
	storeCol, queueCol := "DynamoDB requests", "SQS requests"
	if e.backend == backendMemory {
		storeCol, queueCol = "Store calls", "Queue calls"
	}
	t := &table{head: []string{"operation", "actor", storeCol, queueCol, "minimum", "= minimum", "p50", "basis of the minimum"}}
	met := 0
	for _, r := range results {
		want := r.c.want(e.backend)
		ok := "yes"
		if r.ok(e.backend) {
			met++
		} else {
			ok = "**NO**"
		}
		storeGot, queueGot := format(r.got.store), format(r.got.queue)
		if r.varies {
			storeGot, queueGot = "varies between iterations", "–"
		}
		st := e.rec.get("rt: " + r.c.op)
		minimum := format(want.store)
		if total(want.queue) > 0 {
			minimum += " + " + format(want.queue)
		}
		cells := []string{r.c.op, r.c.actor, storeGot, queueGot, minimum, ok, dur(percentile(st.lat, 0.5)), r.c.basis}
		t.add(cells...)
	}
	sec := section{
		title: "1. Round trips per Service operation",
		text: []string{
			fmt.Sprintf("Each operation run %d times through the Service (after %d untimed warm-up calls), its requests "+
				"counted around the one call (fixtures excluded) by SDK middleware: client calls, not retry attempts. "+
				"\"= minimum\" needs every call, warm-up included, to send exactly the minimum.", iters, warm),
			"BookNanny's minimum: the contract allows one transaction, the reads it needs (strongly consistent where " +
				"correctness depends on them) and at most ⌈N/10⌉ sends. Since issue 14 the store reads once — a " +
				"consistent BatchGetItem of the job, the application and the actor before the transaction (precise " +
				"errors, a retried booking recognized) — and the transaction also puts the job's outbox item; the " +
				"Service then sends one message for the whole job, whatever N. The consistent Query of the job's " +
				"applications moved to the consumer (Decliner.HandleBatch → DeclinePending): 1 Query per 1 MB of the " +
				"job's partition, 1 TransactWriteItems per 100 PENDING applications, 1 DeleteItem of the outbox item. " +
				"So: BatchGetItem=1 TransactWriteItems=1 + SendMessageBatch=1 for every N.",
			"\"Beside\": a guarded list reads the actor's account with a GetItem sent concurrently with the Query, " +
				"so the page costs two requests but one round trip of latency.",
		},
		tables: []*table{t},
	}
	if e.backend == backendMemory {
		sec.text = append(sec.text, "Memory backend: the counts are Store and Queue method calls (the minimum is one Store call per "+
			"atomic step the Service needs), not DynamoDB/SQS requests.")
	}
	rep.add(sec)
	rep.target("round trips = minimum, every operation", fmt.Sprintf("%d of %d at the minimum", met, len(results)), "all", met == len(results))
	return nil
}
