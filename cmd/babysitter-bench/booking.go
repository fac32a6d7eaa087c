package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/babysitter-go/babysitter"
)

// booking times BookNanny with N other applications from the call to the
// moment the last of the N declines is applied, for this library (Service
// + a Poller) and for the tutorial's algorithm, interleaved run by run.
func booking(ctx context.Context, e *env, rep *report) error {
	e.prog.phase("3 booking: fixtures")
	maxN := slices.Max(e.sz.bookNs)
	nannies, err := e.nannies(ctx, maxN+1)
	if err != nil {
		return err
	}
	main, err := e.mainWorld(ctx)
	if err != nil {
		return err
	}
	w, err := main.on(ctx, "booking")
	if err != nil {
		return err
	}
	parent, err := w.user(ctx, babysitter.RoleParent)
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
	stopPoller := w.startPoller(ctx, e.sz.pollerConc, nil)
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

	type result struct {
		n                    int
		ours, base           []time.Duration // to every decline applied
		oursCall, baseCall   []time.Duration // the booking call alone
		oursCalls, baseCalls counts
		oursCPU, baseCPU     cpuSample
	}
	// A first, unrecorded run warms both paths up (DynamoDB Local's JIT
	// above all), so the first recorded run is not the slow one.
	type step struct {
		n, reps int
		warm    bool
	}
	plan := []step{{n: min(100, maxN), reps: 1, warm: true}}
	for i, n := range e.sz.bookNs {
		plan = append(plan, step{n: n, reps: e.sz.bookReps[i]})
	}
	var results []result
	for _, st := range plan {
		n, reps := st.n, st.reps
		res := result{n: n}
		label := ""
		if st.warm {
			label = " (warm-up)"
		}
		timeout := time.Minute + time.Duration(n)*100*time.Millisecond
		for r := range reps {
			// This library.
			e.prog.phase("3 booking N=%d run %d/%d%s: library", n, r+1, reps, label)
			e.prog.step("seeding %d applications", n+1)
			j, err := w.job(ctx, parent)
			if err != nil {
				return err
			}
			apps, err := w.applyAll(ctx, j.ID, nannies[:n+1], 4)
			if err != nil {
				return err
			}
			e.prog.step("booking")
			done, at := w.store.arm(n)
			before, cpu0 := e.snapshot(), e.cpu.sample()
			t0 := time.Now()
			b, err := w.svc.BookNanny(ctx, parent, j.ID, apps[0].ID)
			call := time.Since(t0)
			if err != nil {
				return fmt.Errorf("BookNanny: %w", err)
			}
			if b.DeclinesQueued != n {
				return fmt.Errorf("BookNanny queued %d declines, want %d", b.DeclinesQueued, n)
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
			if !st.warm {
				e.rec.add(fmt.Sprintf("booking: library, N=%d, to all declined", n), 1, elapsed, d)
				e.rec.addUncounted(fmt.Sprintf("booking: library, N=%d, BookNanny call", n), call)
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
			before, cpu0 = e.snapshot(), e.cpu.sample()
			t0 = time.Now()
			if err := tut.book(ctx, parent.Username, jobID, tapps[0].id); err != nil {
				return fmt.Errorf("tutorial book_nanny: %w", err)
			}
			call = time.Since(t0)
			if err := tutTally.waitFor(ctx, tdone, timeout); err != nil {
				return fmt.Errorf("tutorial, N=%d: %w", n, err)
			}
			elapsed = tat().Sub(t0)
			if err := settle(ctx, tut.queued); err != nil {
				return err
			}
			d = withoutLen(e.snapshot().sub(before))
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
		}
		if !st.warm {
			results = append(results, res)
		}
	}

	storeName, queueName := "DynamoDB", "SQS"
	if e.backend == backendMemory {
		storeName, queueName = "store", "queue"
	}
	t := &table{head: []string{"N", "runs",
		"library: BookNanny call", "library: all declined", "tutorial: book_nanny call", "tutorial: all declined",
		"speed-up", "library requests/run", "tutorial requests/run"}}
	cpuT := &table{head: []string{"N", "library: CPU per run", "tutorial: CPU per run"}}
	for _, r := range results {
		cpuT.add(fmt.Sprint(r.n), e.cpu.format(r.oursCPU, len(r.ours)), e.cpu.format(r.baseCPU, len(r.base)))
	}
	for _, r := range results {
		speed := float64(percentile(r.base, 0.5)) / float64(percentile(r.ours, 0.5))
		reqs := func(c counts, runs int) string {
			return fmt.Sprintf("%s %s + %s %s", perOp(int64(total(c.store)), runs), storeName, perOp(int64(total(c.queue)), runs), queueName)
		}
		t.add(fmt.Sprint(r.n), fmt.Sprint(len(r.ours)),
			dur(percentile(r.oursCall, 0.5)), dur(percentile(r.ours, 0.5)),
			dur(percentile(r.baseCall, 0.5)), dur(percentile(r.base, 0.5)),
			ratio(speed)+"×", reqs(r.oursCalls, len(r.ours)), reqs(r.baseCalls, len(r.base)))
		if r.n == 100 {
			name := "BookNanny(N=100) to all declined, speed-up over the tutorial"
			if e.backend == backendMemory {
				rep.info(name, ratio(speed)+"×", "≥ 5×")
			} else {
				rep.target(name, ratio(speed)+"×", "≥ 5×", speed >= 5)
			}
		}
	}
	sec := section{
		title: "3. BookNanny through every decline, against the tutorial",
		text: []string{
			fmt.Sprintf("A job with N+1 PENDING applications; one is booked and the N others must end DECLINED. "+
				"Timed from the booking call until the last decline is applied (medians of the runs, library and "+
				"tutorial interleaved). Library: Service.BookNanny (1 BatchGetItem, 1 TransactWriteItems, 1 "+
				"consistent Query, ⌈N/10⌉ SendMessageBatch) and a Poller with %d workers running "+
				"Decliner.HandleBatch (per received batch: 1 BatchGetItem + 1 TransactWriteItems declining up to 10 "+
				"applications conditionally, then 1 DeleteMessageBatch). Tutorial: its book_nanny (GSI Query, "+
				"2-Update transaction, one SendMessage per application) and one consumer taking one message at a "+
				"time (ReceiveMessage, unconditional UpdateItem, DeleteMessage).", e.sz.pollerConc),
			"Requests per run include the consumers' receives, idle long polls among them. The second table is the " +
				"CPU time each process spent per run (from the booking call until the queue is empty; /proc, 10 ms " +
				"resolution summed over the runs): on a machine with few cores, the servers' CPU is what bounds this scenario.",
		},
		tables: []*table{t, cpuT},
	}
	rep.add(sec)
	return nil
}
