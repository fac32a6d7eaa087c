package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/babysitter-go/babysitter"
)

var nearCases = []testCase{
	{"MatchesBruteForce", testNearMatchesBruteForce},
	{"MatchesBruteForceAtPolesAndAntimeridian", testNearAtPolesAndAntimeridian},
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
	points := make([][2]float64, n)
	for i := range points {
		points[i][0], points[i][1] = g.point(r)
	}
	return w.seedJobsAt(parent, points)
}

// seedJobsAt creates an OPEN job at each point, in parallel.
func (w *world) seedJobsAt(parent babysitter.Actor, points [][2]float64) []babysitter.Job {
	w.t.Helper()
	details := make([]babysitter.JobDetails, len(points))
	for i, p := range points {
		details[i] = newJob(parent.Username).JobDetails
		details[i].Latitude, details[i].Longitude = p[0], p[1]
	}
	jobs := make([]babysitter.Job, len(points))
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
				firstErr = fmt.Errorf("at %v: %w", points[i], err)
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
		w.wantNear(nanny, jobs, lat, lon, []float64{2, 5, 10, 25}[q%4], 7)
	}
}

// rangeCounter is a Store that records the most ranges one
// ListOpenJobsInRanges was asked for: the Queries one ListJobsNear sends to
// DynamoDB.
type rangeCounter struct {
	babysitter.Store
	widest atomic.Int64
}

func (s *rangeCounter) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	for {
		n := s.widest.Load()
		if int64(len(ranges)) <= n || s.widest.CompareAndSwap(n, int64(len(ranges))) {
			break
		}
	}
	return s.Store.ListOpenJobsInRanges(ctx, g, ranges)
}

// testNearAtPolesAndAntimeridian seeds jobs around both poles, across the
// antimeridian and across the latitudes where the index partitions widen,
// and checks that ListJobsNear equals a brute-force haversine filter there
// for every radius up to the largest — a query at a pole included — in at
// most babysitter.MaxGeoRanges ranges each.
func testNearAtPolesAndAntimeridian(t *testing.T, s babysitter.Store) {
	counter := &rangeCounter{Store: s}
	w := newWorld(t, counter)
	r := rand.New(rand.NewPCG(uint64(len(t.Name())), 17))
	parent := w.account(babysitter.RoleParent)
	nanny := w.account(babysitter.RoleNanny)
	// Sites: the poles, the antimeridian at the equator, and band
	// boundaries (where partitions of 1 and 2 cells, 4 and 8, 32 and 64,
	// 256 and a whole row meet), some on the antimeridian too.
	sites := [][2]float64{{90, 0}, {-90, 0}, {0, 180}, {59.0625, 180}, {-82.6171875, -180}, {88.9453125, 20}, {-89.82421875, 100}}
	points := [][2]float64{{90, 0}, {90, 137}, {-90, -45}, {0, 180}, {0, -180}, {89.9999, -180}}
	for _, c := range sites {
		// Within about 60 km of the site: every longitude near a pole.
		halfLon := min(180, 0.55/math.Cos(c[0]*math.Pi/180))
		for range scale(70, 35) {
			lat := min(90, max(-90, c[0]+(r.Float64()*2-1)*0.55))
			points = append(points, [2]float64{lat, math.Remainder(c[1]+(r.Float64()*2-1)*halfLon, 360)})
		}
	}
	jobs := w.seedJobsAt(parent, points)
	for _, c := range sites {
		// The site, and a point up to 30 km from it.
		lat := min(90, max(-90, c[0]+(r.Float64()*2-1)*0.27))
		for _, q := range [][2]float64{c, {lat, math.Remainder(c[1]+(r.Float64()*2-1)*10, 360)}} {
			for _, radius := range []float64{babysitter.MaxRadiusKm, 10, 1} {
				w.wantNear(nanny, jobs, q[0], q[1], radius, 40)
			}
		}
	}
	if n := counter.widest.Load(); n > babysitter.MaxGeoRanges {
		t.Errorf("a query read %d ranges, want at most %d", n, babysitter.MaxGeoRanges)
	}
}

// wantNear checks that ListJobsNear (pages of limit) finds exactly the jobs
// of jobs within radius of the point — the brute-force haversine filter —
// nearest first. Jobs of other cases sharing the store are left aside.
func (w *world) wantNear(a babysitter.Actor, jobs []babysitter.Job, lat, lon, radius float64, limit int) {
	w.t.Helper()
	type hit struct {
		id string
		d  float64
	}
	var want []hit
	mine := map[string]bool{}
	for _, j := range jobs {
		mine[j.ID] = true
		if d := babysitter.DistanceKm(lat, lon, j.Latitude, j.Longitude); d <= radius {
			want = append(want, hit{j.ID, d})
		}
	}
	slices.SortFunc(want, func(a, b hit) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.id, b.id)) })
	wantIDs := make([]string, 0, len(want))
	for _, h := range want {
		wantIDs = append(wantIDs, h.id)
	}
	eventually(w.t, func() error {
		got, dists := w.near(a, lat, lon, radius, limit)
		if !slices.IsSorted(dists) {
			return fmt.Errorf("distances not ascending: %v", dists)
		}
		got = slices.DeleteFunc(got, func(id string) bool { return !mine[id] })
		return same(fmt.Sprintf("IDs of the jobs within %v km of (%v, %v)", radius, lat, lon), wantIDs, append([]string{}, got...))
	})
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
