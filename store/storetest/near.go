package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/babysitter-go/babysitter"
)

var nearCases = []testCase{
	{"MatchesBruteForce", testNearMatchesBruteForce},
	{"LeavesIndexWhenNotOpen", testNearLeavesIndex},
}

// region is a box around Berlin, about 110 km × 70 km. Each case shifts it
// by a random offset so cases sharing a store do not see each other's jobs.
type region struct{ lat, lon float64 }

func newRegion(r *rand.Rand) region {
	return region{lat: -60 + r.Float64()*120, lon: -170 + r.Float64()*340}
}

func (g region) point(r *rand.Rand) (float64, float64) {
	return g.lat + r.Float64(), g.lon + r.Float64()
}

// seedJobs creates n OPEN jobs at random points of the region, in parallel.
func (w *world) seedJobs(g region, r *rand.Rand, parent babysitter.Actor, n int) []babysitter.Job {
	w.t.Helper()
	details := make([]babysitter.JobDetails, n)
	for i := range details {
		details[i] = newJob(parent.Username).JobDetails
		details[i].Latitude, details[i].Longitude = g.point(r)
	}
	jobs := make([]babysitter.Job, n)
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range details {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			j, err := w.svc.CreateJob(w.t.Context(), parent, details[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			jobs[i] = j
		})
	}
	wg.Wait()
	if firstErr != nil {
		w.t.Fatalf("CreateJob: %v", firstErr)
	}
	return jobs
}

// near returns the IDs of every job ListJobsNear finds, all pages, in order.
func (w *world) near(a babysitter.Actor, lat, lon, radius float64, limit int) ([]string, []float64) {
	w.t.Helper()
	var ids []string
	var dists []float64
	p := babysitter.PageRequest{Limit: limit}
	for {
		page, err := w.svc.ListJobsNear(w.t.Context(), a, lat, lon, radius, p)
		if err != nil {
			w.t.Fatalf("ListJobsNear: %v", err)
		}
		for _, j := range page.Items {
			ids = append(ids, j.ID)
			dists = append(dists, j.DistanceKm)
		}
		if page.NextCursor == "" {
			return ids, dists
		}
		p.Cursor = page.NextCursor
	}
}

// testNearMatchesBruteForce seeds jobs across a region and checks that
// ListJobsNear equals a brute-force haversine filter, nearest first.
func testNearMatchesBruteForce(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	r := rand.New(rand.NewPCG(uint64(len(t.Name())), 11))
	g := newRegion(r)
	parent := w.account(babysitter.RoleParent)
	nanny := w.account(babysitter.RoleNanny)
	jobs := w.seedJobs(g, r, parent, scale(2000, 300))
	for q := range 8 {
		lat, lon := g.point(r)
		radius := []float64{2, 5, 10, 25}[q%4]
		type hit struct {
			id string
			d  float64
		}
		var want []hit
		for _, j := range jobs {
			if d := babysitter.DistanceKm(lat, lon, j.Latitude, j.Longitude); d <= radius {
				want = append(want, hit{j.ID, d})
			}
		}
		slices.SortFunc(want, func(a, b hit) int {
			if a.d != b.d {
				if a.d < b.d {
					return -1
				}
				return 1
			}
			if a.id < b.id {
				return -1
			}
			return 1
		})
		wantIDs := make([]string, len(want))
		for i, h := range want {
			wantIDs[i] = h.id
		}
		eventually(t, func() error {
			got, dists := w.near(nanny, lat, lon, radius, 7)
			if !slices.IsSorted(dists) {
				return fmt.Errorf("distances not ascending: %v", dists)
			}
			return same("nearby job IDs", wantIDs, got)
		})
	}
}

func testNearLeavesIndex(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	r := rand.New(rand.NewPCG(uint64(len(t.Name())), 13))
	g := newRegion(r)
	parent := w.account(babysitter.RoleParent)
	nanny := w.account(babysitter.RoleNanny)
	jobs := w.seedJobs(g, r, parent, 3)
	// Move all three to one point, then close one and cancel another.
	for _, j := range jobs {
		lat, lon := g.lat+0.5, g.lon+0.5
		if _, err := w.svc.UpdateJob(t.Context(), parent, j.ID, babysitter.JobPatch{Latitude: &lat, Longitude: &lon}); err != nil {
			t.Fatal(err)
		}
	}
	app := w.apply(jobs[0].ID, []babysitter.Actor{nanny})[0]
	if _, err := w.svc.BookNanny(t.Context(), parent, jobs[0].ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CancelJob(t.Context(), parent, jobs[1].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		got, _ := w.near(nanny, g.lat+0.5, g.lon+0.5, 1, 10)
		return same("open jobs at the point", []string{jobs[2].ID}, got)
	})
}
