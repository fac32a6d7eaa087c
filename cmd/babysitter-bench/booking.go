package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/babysitter-go/babysitter"
)

// The issue-14 targets the booking scenario checks.
const (
	// The booking through every decline, speed-up over the tutorial, by N.
	wantAllDeclined1000 = 5.0
	wantAllDeclined100  = 3.0
	// The BookNanny call, speed-up over the tutorial's book_nanny at N=1000.
	wantCall1000 = 6.0
	// The BookNanny call over the floor of its own requests.
	wantCallOverFloor = 1.2
)

// bookResult is one N of the booking scenario.
type bookResult struct {
	n                    int
	ours, base           []time.Duration // to every decline applied
	oursCall, baseCall   []time.Duration // the booking call alone
	oursCalls, baseCalls counts
	oursCPU, baseCPU     cpuSample
	// floor is BookNanny's requests sent bare on a job like the run's (N+1
	// applications), beside each run; oursReq and floorReq the latency of
	// each request of the BookNanny calls and of the floors.
	floor             []time.Duration
	oursReq, floorReq *reqLog
	// Where the library's time goes after the call: from BookNanny's
	// return to the consumer's handler starting (the message's trip), the
	// handler's time (DeclinePending), and its requests.
	pickup, handle []time.Duration
	declReq        *reqLog
	// The interleaved pairs on one-application jobs: BookNanny through the
	// Service, and its requests bare.
	pairCall, pairFloor []time.Duration
}

// booking times BookNanny with N other applications from the call to the
// moment the last of the N declines is applied, for this library (Service
// + a Poller) and for the tutorial's algorithm, interleaved run by run;
// each run is followed by pairs of a BookNanny and its floor (the same
// requests, bare) on one-application jobs.
func booking(ctx context.Context, e *env, rep *report) error {
	e.prog.phase("3 booking: fixtures")
	nannies, main, w, err := e.bookingFixtures(ctx, "booking")
	if err != nil {
		return err
	}
	parent, err := w.user(ctx, babysitter.RoleParent)
	if err != nil {
		return err
	}
	// The pairs book on a world of their own whose queue nobody consumes,
	// so no decline runs beside them.
	fw, err := main.on(ctx, "floor")
	if err != nil {
		return err
	}
	fl, err := newFloor(ctx, e, fw, parent, nannies[0])
	if err != nil {
		return err
	}
	var tut tutorial
	if e.backend == backendMemory {
		tut = newTutorialMem(e)
	} else if tut, err = newTutorialAWS(ctx, e); err != nil {
		return err
	}

	// Both consumers run all along, idle between runs, as in production.
	// The Poller's handler reports to the run in progress when its batch
	// started and how long it took.
	var cur atomic.Pointer[handlerTrace]
	stopPoller := w.startPoller(ctx, e.sz.pollerConc, func(h babysitter.BatchHandler) babysitter.BatchHandler {
		return func(ctx context.Context, msgs []babysitter.Message) []string {
			tr := cur.Load()
			if tr == nil {
				return h(ctx, msgs)
			}
			t0 := time.Now()
			failed := h(withReqLog(ctx, tr.reqs), msgs)
			tr.add(t0, time.Since(t0))
			return failed
		}
	})
	defer stopPoller()
	var tutTally tally
	consumerCtx, stopConsumer := context.WithCancel(ctx)
	consumerDone := make(chan error, 1)
	go func() {
		for consumerCtx.Err() == nil {
			declined, err := tut.consumeOne(consumerCtx)
			if err != nil && consumerCtx.Err() == nil {
				consumerDone <- fmt.Errorf("tutorial consumer: %w", err)
				return
			}
			if declined {
				tutTally.add(1)
			}
		}
		consumerDone <- nil
	}()
	defer func() {
		stopConsumer()
		<-consumerDone
	}()

	// A first, unrecorded run warms both paths up (DynamoDB Local's JIT
	// above all), so the first recorded run is not the slow one.
	type step struct {
		n, reps int
		warm    bool
	}
	plan := []step{{n: min(100, slices.Max(e.sz.bookNs)), reps: 1, warm: true}}
	for i, n := range e.sz.bookNs {
		plan = append(plan, step{n: n, reps: e.sz.bookReps[i]})
	}
	var results []bookResult
	for _, st := range plan {
		n, reps := st.n, st.reps
		res := bookResult{n: n, oursReq: &reqLog{}, floorReq: &reqLog{}, declReq: &reqLog{}}
		label := ""
		if st.warm {
			label = " (warm-up)"
		}
		timeout := time.Minute + time.Duration(n)*100*time.Millisecond
		for r := range reps {
			// This library, and the floor of its BookNanny on a job like
			// the run's, in turns.
			e.prog.phase("3 booking N=%d run %d/%d%s: library", n, r+1, reps, label)
			e.prog.step("seeding %d + %d applications", n+1, n+1)
			j, apps, err := w.seedJob(ctx, parent, nannies[:n+1])
			if err != nil {
				return err
			}
			fj, fapps, err := fw.seedJob(ctx, parent, nannies[:n+1])
			if err != nil {
				return err
			}
			library := func() error {
				e.prog.step("booking")
				done, at := w.store.arm(n)
				tr := &handlerTrace{reqs: res.declReq}
				cur.Store(tr)
				defer cur.Store(nil)
				before, cpu0 := e.snapshot(), e.cpu.sample()
				t0 := time.Now()
				b, err := w.svc.BookNanny(withReqLog(ctx, res.oursReq), parent, j.ID, apps[0].ID)
				call := time.Since(t0)
				if err != nil {
					return fmt.Errorf("BookNanny: %w", err)
				}
				if b.DeclinesQueued != 1 {
					return fmt.Errorf("BookNanny sent %d decline messages, want 1 (the job's)", b.DeclinesQueued)
				}
				if err := w.store.waitFor(ctx, done, timeout); err != nil {
					return fmt.Errorf("library, N=%d: %w", n, err)
				}
				elapsed := at().Sub(t0)
				if err := w.settle(ctx); err != nil {
					return err
				}
				d := withoutLen(e.snapshot().sub(before))
				res.oursCPU = res.oursCPU.add(e.cpu.sample().since(cpu0))
				res.ours, res.oursCall = append(res.ours, elapsed), append(res.oursCall, call)
				res.oursCalls = res.oursCalls.add(d)
				start, took := tr.get()
				res.pickup, res.handle = append(res.pickup, start.Sub(t0.Add(call))), append(res.handle, took)
				if !st.warm {
					e.rec.add(fmt.Sprintf("booking: library, N=%d, to all declined", n), 1, elapsed, d)
					e.rec.addUncounted(fmt.Sprintf("booking: library, N=%d, BookNanny call", n), call)
				}
				return nil
			}
			floorAtN := func() error {
				e.prog.step("floor")
				bare := fl.prepareOn(fj, fapps[0])
				before := e.snapshot()
				t0 := time.Now()
				if err := bare(withReqLog(ctx, res.floorReq)); err != nil {
					return fmt.Errorf("floor, N=%d: %w", n, err)
				}
				lat := time.Since(t0)
				res.floor = append(res.floor, lat)
				if !st.warm {
					e.rec.add(fmt.Sprintf("booking: BookNanny's floor, N=%d, its requests bare", n), 1, lat, withoutPolls(e.snapshot().sub(before)))
				}
				return nil
			}
			first, second := library, floorAtN
			if r%2 == 1 {
				first, second = floorAtN, library
			}
			if err := first(); err != nil {
				return err
			}
			if err := second(); err != nil {
				return err
			}

			// The tutorial.
			e.prog.phase("3 booking N=%d run %d/%d%s: tutorial", n, r+1, reps, label)
			e.prog.step("seeding %d applications", n+1)
			tapps := newTutApps(nannies[:n+1])
			jobID, err := tut.seed(ctx, parent.Username, tapps)
			if err != nil {
				return fmt.Errorf("tutorial seed: %w", err)
			}
			e.prog.step("booking")
			tdone, tat := tutTally.arm(n)
			before, cpu0 := e.snapshot(), e.cpu.sample()
			t0 := time.Now()
			if err := tut.book(ctx, parent.Username, jobID, tapps[0].id); err != nil {
				return fmt.Errorf("tutorial book_nanny: %w", err)
			}
			call := time.Since(t0)
			if err := tutTally.waitFor(ctx, tdone, timeout); err != nil {
				return fmt.Errorf("tutorial, N=%d: %w", n, err)
			}
			elapsed := tat().Sub(t0)
			if err := settle(ctx, tut.queued); err != nil {
				return err
			}
			d := withoutLen(e.snapshot().sub(before))
			res.baseCPU = res.baseCPU.add(e.cpu.sample().since(cpu0))
			res.base, res.baseCall = append(res.base, elapsed), append(res.baseCall, call)
			res.baseCalls = res.baseCalls.add(d)
			if !st.warm {
				e.rec.add(fmt.Sprintf("booking: tutorial, N=%d, to all declined", n), 1, elapsed, d)
				e.rec.addUncounted(fmt.Sprintf("booking: tutorial, N=%d, book_nanny call", n), call)
			}
			select {
			case err := <-consumerDone:
				return err
			default:
			}

			// BookNanny and its floor, interleaved.
			e.prog.phase("3 booking N=%d run %d/%d%s: BookNanny vs its floor", n, r+1, reps, label)
			for k := range e.sz.floorPairs {
				call, bare, err := floorPair(ctx, e, fw, fl, parent, k%2 == 1)
				if err != nil {
					return err
				}
				res.pairCall, res.pairFloor = append(res.pairCall, call), append(res.pairFloor, bare)
			}
		}
		if !st.warm {
			results = append(results, res)
		}
	}
	bookingReport(e, rep, results)
	return nil
}

// bookingFixtures returns enough nannies on the main store for the largest
// N and one more, the main world, and a world on its store with a fresh
// queue.
func (e *env) bookingFixtures(ctx context.Context, label string) ([]babysitter.Actor, *world, *world, error) {
	nannies, err := e.nannies(ctx, slices.Max(e.sz.bookNs)+1)
	if err != nil {
		return nil, nil, nil, err
	}
	main, err := e.mainWorld(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	w, err := main.on(ctx, label)
	return nannies, main, w, err
}

// handlerTrace is what the decline handler reports to a booking run: when
// its first batch started, the time of its batches, their requests.
type handlerTrace struct {
	mu    sync.Mutex
	start time.Time
	took  time.Duration
	reqs  *reqLog
}

func (t *handlerTrace) add(start time.Time, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() {
		t.start = start
	}
	t.took += took
}

func (t *handlerTrace) get() (time.Time, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.start, t.took
}

// seedJob makes an OPEN job of the parent with one application of each
// nanny.
func (w *world) seedJob(ctx context.Context, parent babysitter.Actor, nannies []babysitter.Actor) (babysitter.Job, []babysitter.Application, error) {
	j, err := w.job(ctx, parent)
	if err != nil {
		return j, nil, err
	}
	apps, err := w.applyAll(ctx, j.ID, nannies, 4)
	return j, apps, err
}

// floorPair times one BookNanny through the Service and one floor (its
// requests bare), each on a fresh job with one application, floor first
// when floorFirst.
func floorPair(ctx context.Context, e *env, fw *world, fl *floor, parent babysitter.Actor, floorFirst bool) (call, bare time.Duration, err error) {
	j, err := fw.job(ctx, parent)
	if err != nil {
		return 0, 0, err
	}
	a, err := fw.svc.ApplyToJob(ctx, fl.nanny, j.ID, babysitter.NewApplication{Message: "Happy to help."})
	if err != nil {
		return 0, 0, err
	}
	bareCall, err := fl.prepare(ctx)
	if err != nil {
		return 0, 0, err
	}
	// The requests counted are the call's own: on DynamoDB + SQS those its
	// context carried (the consumers running beside it send theirs under
	// other contexts), on memory the store and queue calls in its window.
	measure := func(name string, fn func(context.Context) error) (time.Duration, error) {
		reqs, before := &reqLog{}, e.snapshot()
		t0 := time.Now()
		err := fn(withReqLog(ctx, reqs))
		took := time.Since(t0)
		if err == nil {
			c := withoutPolls(e.snapshot().sub(before))
			if e.backend != backendMemory {
				c = reqs.counts()
			}
			e.rec.add(name, 1, took, c)
		}
		return took, err
	}
	timeSvc := func() (err error) {
		call, err = measure("booking: BookNanny, 1 application (pairs)", func(ctx context.Context) error {
			b, err := fw.svc.BookNanny(ctx, parent, j.ID, a.ID)
			if err == nil && b.DeclinesQueued != 1 {
				err = fmt.Errorf("BookNanny sent %d decline messages, want 1", b.DeclinesQueued)
			}
			return err
		})
		return err
	}
	timeBare := func() (err error) {
		bare, err = measure("booking: BookNanny's floor, its requests bare (pairs)", bareCall)
		return err
	}
	first, second := timeSvc, timeBare
	if floorFirst {
		first, second = timeBare, timeSvc
	}
	if err := first(); err != nil {
		return 0, 0, err
	}
	if err := second(); err != nil {
		return 0, 0, err
	}
	return call, bare, nil
}

// bookingReport writes the booking scenario's section and targets.
func bookingReport(e *env, rep *report, results []bookResult) {
	storeName, queueName := "DynamoDB", "SQS"
	if e.backend == backendMemory {
		storeName, queueName = "store", "queue"
	}
	target := func(name string, got float64, unit, want string, met bool) {
		if e.backend == backendMemory {
			rep.info(name, ratio(got)+unit, want)
		} else {
			rep.target(name, ratio(got)+unit, want, met)
		}
	}
	p50 := func(d []time.Duration) time.Duration { return percentile(d, 0.5) }
	speed := func(base, ours []time.Duration) float64 { return float64(p50(base)) / float64(p50(ours)) }

	t := &table{head: []string{"N", "runs", "library: BookNanny call", "tutorial: book_nanny call", "call speed-up",
		"library: all declined", "tutorial: all declined", "all-declined speed-up"}}
	ft := &table{head: []string{"N", "runs", "BookNanny call", "its floor", "call ÷ floor", "BookNanny's requests (p50 each)",
		"the floor's requests (p50 each)", "pairs", "pairs: BookNanny (1 application)", "pairs: its floor", "pairs: call ÷ floor"}}
	bt := &table{head: []string{"N", "BookNanny call", "message → handler", "handler (DeclinePending)", "all declined",
		"the handler's requests (p50 each)"}}
	rt := &table{head: []string{"N", "library requests/run", "tutorial requests/run"}}
	cpuT := &table{head: []string{"N", "library: CPU per run", "tutorial: CPU per run", storeName + " CPU: library ÷ tutorial"}}
	for _, r := range results {
		call, all := speed(r.baseCall, r.oursCall), speed(r.base, r.ours)
		t.add(fmt.Sprint(r.n), fmt.Sprint(len(r.ours)), dur(p50(r.oursCall)), dur(p50(r.baseCall)), ratio(call)+"×",
			dur(p50(r.ours)), dur(p50(r.base)), ratio(all)+"×")
		pairs := float64(p50(r.pairCall)) / float64(p50(r.pairFloor))
		atN := float64(p50(r.oursCall)) / float64(p50(r.floor))
		ft.add(fmt.Sprint(r.n), fmt.Sprint(len(r.floor)), dur(p50(r.oursCall)), dur(p50(r.floor)), ratio(atN),
			r.oursReq.p50s(), r.floorReq.p50s(),
			fmt.Sprint(len(r.pairCall)), dur(p50(r.pairCall)), dur(p50(r.pairFloor)), ratio(pairs))
		bt.add(fmt.Sprint(r.n), dur(p50(r.oursCall)), signedDur(p50(r.pickup)), dur(p50(r.handle)), dur(p50(r.ours)), r.declReq.p50s())
		reqs := func(c counts, runs int) string {
			return fmt.Sprintf("%s: %s; %s: %s", storeName, formatPer(c.store, runs), queueName, formatPer(c.queue, runs))
		}
		rt.add(fmt.Sprint(r.n), reqs(r.oursCalls, len(r.ours)), reqs(r.baseCalls, len(r.base)))
		cpuRatio := "–"
		var ours, base time.Duration
		if i := e.cpu.index("DynamoDB"); i >= 0 && r.oursCPU.ok && r.baseCPU.ok {
			ours, base = r.oursCPU.t[i]/time.Duration(len(r.ours)), r.baseCPU.t[i]/time.Duration(len(r.base))
			cpuRatio = ratio(float64(ours) / float64(base))
		}
		cpuT.add(fmt.Sprint(r.n), e.cpu.format(r.oursCPU, len(r.ours)), e.cpu.format(r.baseCPU, len(r.base)), cpuRatio)

		switch r.n {
		case 100:
			target("N=100: to all declined, speed-up over the tutorial", all, "×", fmt.Sprintf("≥ %g×", wantAllDeclined100), all >= wantAllDeclined100)
		case 1000:
			target("N=1000: to all declined, speed-up over the tutorial", all, "×", fmt.Sprintf("≥ %g×", wantAllDeclined1000), all >= wantAllDeclined1000)
			target("N=1000: BookNanny call, speed-up over book_nanny", call, "×", fmt.Sprintf("≥ %g×", wantCall1000), call >= wantCall1000)
			target("N=1000: BookNanny call ÷ its floor on a job of 1001 applications (p50s)", atN, "", fmt.Sprintf("≤ %g", wantCallOverFloor), atN <= wantCallOverFloor)
		}
		if r.n >= 100 && cpuRatio != "–" && e.backend == backendAWS {
			rep.target(fmt.Sprintf("N=%d: DynamoDB CPU per booking, library ÷ tutorial", r.n), ratio(float64(ours)/float64(base)), "≤ 1", ours <= base)
		}
	}
	var allCall, allFloor []time.Duration
	for _, r := range results {
		allCall, allFloor = append(allCall, r.pairCall...), append(allFloor, r.pairFloor...)
	}
	pairs := float64(p50(allCall)) / float64(p50(allFloor))
	target("BookNanny call ÷ its floor, interleaved pairs (all N)", pairs, "", fmt.Sprintf("≤ %g", wantCallOverFloor), pairs <= wantCallOverFloor)

	rep.add(section{
		title: "3. BookNanny through every decline, against the tutorial",
		text: []string{
			fmt.Sprintf("A job with N+1 PENDING applications; one is booked and the N others must end DECLINED. "+
				"Timed from the booking call until the last decline is applied (medians of the runs, library and "+
				"tutorial interleaved). Library: Service.BookNanny (1 consistent BatchGetItem, 1 TransactWriteItems "+
				"that also puts the job's outbox item, 1 SendMessageBatch of the job's one message) and a Poller with "+
				"%d workers running Decliner.HandleBatch: DeclinePending reads the job's partition (1 consistent Query "+
				"per MB), declines the PENDING applications in TransactWriteItems of up to 100 conditional Updates, 4 "+
				"in flight, and deletes the outbox item (DeleteItem); then 1 DeleteMessageBatch. Tutorial: its "+
				"book_nanny (GSI Query, 2-Update transaction, one SendMessage per application) and one consumer taking "+
				"one message at a time (ReceiveMessage, unconditional UpdateItem, DeleteMessage).", e.sz.pollerConc),
			fmt.Sprintf("The floor: BookNanny's requests built beforehand and sent bare on the same clients, one after "+
				"the other as BookNanny sends them (a consistent BatchGetItem of the job, the application and the parent; "+
				"TransactWriteItems of the same five actions; SendMessageBatch of one entry to a queue nobody consumes), "+
				"on a second job seeded like the run's (N+1 applications), in turns with the run's BookNanny (which "+
				"goes first alternates). The requests' columns give each request's median latency inside the call and "+
				"inside the floor. After each run, %d pairs of a BookNanny through the Service (to a queue nobody "+
				"consumes) and its floor, each on a fresh job with one application, alternating which goes first: "+
				"BookNanny's requests do not depend on N (it sends no Query), so the pairs measure what the library "+
				"adds to its requests with the least else going on (their rows under All operations leave out the "+
				"idle consumers' receives made meanwhile).", e.sz.floorPairs),
			"Where the library's time goes (medians): the BookNanny call; from its return until the Poller's handler " +
				"starts on the message (negative: the consumer had the message before the send's response reached " +
				"BookNanny); the handler, Decliner.HandleBatch " +
				"→ DeclinePending; and each of the handler's requests. " +
				"Requests per run include the consumers' receives, idle long polls among them. The CPU table is the " +
				"CPU time each process spent per run (from the booking call until the queue is empty; /proc, 10 ms " +
				"resolution summed over the runs); servers taken from the environment may be serving other clients " +
				"too, whose CPU then counts here.",
		},
		tables: []*table{t, ft, bt, rt, cpuT},
	})
}
