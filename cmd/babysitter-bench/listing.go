package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/babysitter-go/babysitter"
)

// listing reads the first page of ListJobsByStatus(OPEN) from two tables,
// one with few jobs and one with many, interleaved: the page's cost must
// not grow with the table.
func listing(ctx context.Context, e *env, rep *report) error {
	type side struct {
		jobs  int
		w     *world
		nanny babysitter.Actor
		lat   []time.Duration
		calls counts
	}
	var sides [2]*side
	for k, n := range e.sz.listJobs {
		e.prog.phase("4 listing: seeding %d jobs", n)
		w, err := e.newWorld(ctx, fmt.Sprintf("list%d", n), nil, "")
		if err != nil {
			return err
		}
		nanny, err := w.user(ctx, babysitter.RoleNanny)
		if err != nil {
			return err
		}
		if err := seedJobs(ctx, e, w, n); err != nil {
			return err
		}
		sides[k] = &side{jobs: n, w: w, nanny: nanny}
	}

	read := func(ctx context.Context, s *side, record bool) error {
		before := e.snapshot()
		t0 := time.Now()
		page, err := s.w.svc.ListJobsByStatus(ctx, s.nanny, babysitter.JobOpen, babysitter.PageRequest{})
		lat := time.Since(t0)
		if err != nil {
			return err
		}
		if len(page.Items) != min(babysitter.DefaultLimit, s.jobs) {
			return fmt.Errorf("first page of %d jobs has %d items, want %d", s.jobs, len(page.Items), babysitter.DefaultLimit)
		}
		if record {
			d := e.snapshot().sub(before)
			s.lat = append(s.lat, lat)
			s.calls = s.calls.add(d)
			e.rec.add(fmt.Sprintf("listing: ListJobsByStatus first page, %d jobs", s.jobs), 1, lat, d)
		}
		return nil
	}
	total := e.sz.warm + e.sz.listIters
	e.prog.phase("4 listing: first pages")
	for i := range total {
		e.prog.step("%d/%d", i+1, total)
		order := sides
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, s := range order {
			if err := read(ctx, s, i >= e.sz.warm); err != nil {
				return err
			}
		}
	}

	t := &table{head: []string{"jobs in the table", "pages read", "p50", "p99", "mean", "requests/page", "items read/page"}}
	for _, s := range sides {
		items := "–"
		if s.calls.items >= 0 {
			items = perOp(s.calls.items, len(s.lat))
		}
		t.add(fmt.Sprint(s.jobs), fmt.Sprint(len(s.lat)), dur(percentile(s.lat, 0.5)), dur(percentile(s.lat, 0.99)),
			dur(mean(s.lat)), formatPer(s.calls.store, len(s.lat)), items)
	}
	r := float64(percentile(sides[1].lat, 0.5)) / float64(percentile(sides[0].lat, 0.5))
	name := fmt.Sprintf("listing: first page p50, %d jobs ÷ %d jobs", sides[1].jobs, sides[0].jobs)
	if e.backend == backendMemory {
		rep.info(name, ratio(r), "≤ 1.5")
	} else {
		rep.target(name, ratio(r), "≤ 1.5", r <= 1.5)
	}
	rep.add(section{
		title: "4. Listing: first page of ListJobsByStatus(OPEN)",
		text: []string{
			fmt.Sprintf("Two tables, all jobs OPEN, read by a nanny (default page of %d: one Query of the byStatus "+
				"index with Limit %d, plus the Guard's GetItem beside it); %d pages from each after %d warm-up "+
				"pages, alternating tables. Ratio of the p50s: %s.", babysitter.DefaultLimit, babysitter.DefaultLimit+1,
				e.sz.listIters, e.sz.warm, ratio(r)),
		},
		tables: []*table{t},
	})
	return nil
}

// seedJobs creates n jobs through the Service, 16 at a time, each worker
// with its own parent so no two transactions update the same parent item.
func seedJobs(ctx context.Context, e *env, w *world, n int) error {
	const workers = 16
	parents := make([]babysitter.Actor, min(workers, n))
	for i := range parents {
		var err error
		if parents[i], err = w.user(ctx, babysitter.RoleParent); err != nil {
			return err
		}
	}
	var made atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for k, p := range parents {
		g.Go(func() error {
			for i := k; i < n; i += len(parents) {
				if _, err := w.job(ctx, p); err != nil {
					return err
				}
				e.prog.step("%d/%d", made.Add(1), n)
			}
			return nil
		})
	}
	return g.Wait()
}
