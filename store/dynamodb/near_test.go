package dynamodb_test

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
)

// The jobs-near-me measurements: a query point in the middle of a
// 10° × 10° box (roughly Germany) and a 10 km radius. nearSquare is the
// square around the point that holds every index cell a 10 km query there
// can read (a precision-4 cell is 0.35° × 0.18°; the ranges reach at most
// one cell beyond the circle's bounding box), so jobs outside it are never
// read.
const (
	pointLat, pointLon = 50.0, 10.0
	radiusKm           = 10.0
	boxLat, boxLon     = 45.0, 5.0 // south-west corner; the box is 10° × 10°
	nearSquare         = 0.75      // half side, in degrees
)

// nearEnv is a table with an item counter, its Store and a Service on it,
// parents to own the seeded jobs, a VERIFIED nanny to ask, and the points
// the nanny asks about and the radius (the query point and radiusKm unless
// set otherwise).
type nearEnv struct {
	client  *dynamodb.Client
	table   string
	store   *ddbstore.Store
	items   *ddbtest.ItemCounter
	calls   *ddbtest.CallCounter
	svc     *babysitter.Service
	nanny   babysitter.Actor
	parents []string
	rnd     *rand.Rand
	jobs    []babysitter.Job // every job seeded
	points  [][2]float64
	radius  float64
}

// grid is n × n points evenly spread over the square of half side half
// around (lat, lon).
func grid(lat, lon, half float64, n int) [][2]float64 {
	var ps [][2]float64
	for i := range n {
		for j := range n {
			ps = append(ps, [2]float64{
				lat - half + 2*half*(float64(i)+0.5)/float64(n),
				lon - half + 2*half*(float64(j)+0.5)/float64(n),
			})
		}
	}
	return ps
}

func newNearEnv(tb testing.TB, parents int) *nearEnv {
	tb.Helper()
	env := &nearEnv{items: &ddbtest.ItemCounter{}, calls: &ddbtest.CallCounter{}, rnd: rand.New(rand.NewPCG(7, 11)),
		points: [][2]float64{{pointLat, pointLon}}, radius: radiusKm}
	client := testenv.DynamoDBClient(tb, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, env.calls.Register, env.items.Register)
	})
	env.client, env.table = client, newTable(tb, client)
	env.store = ddbstore.New(client, env.table)
	q := qmemory.New(qmemory.Options{VisibilityTimeout: time.Minute, WaitTime: -1})
	env.svc = babysitter.New(env.store, q, babysitter.Options{Logger: slog.New(slog.DiscardHandler)})
	ctx := tb.Context()
	n := newUser(babysitter.UserNanny)
	must(tb, "CreateUser", env.store.CreateUser(ctx, n))
	env.nanny = babysitter.Actor{Username: n.Username, Role: babysitter.RoleNanny}
	for range parents {
		p := newUser(babysitter.UserParent)
		must(tb, "CreateUser", env.store.CreateUser(ctx, p))
		env.parents = append(env.parents, p.Username)
	}
	return env
}

// inSquare is a random point within nearSquare of the query point;
// outsideSquare one in the box but not in that square.
func (env *nearEnv) inSquare(half float64) (float64, float64) {
	return pointLat - half + 2*half*env.rnd.Float64(), pointLon - half + 2*half*env.rnd.Float64()
}

func (env *nearEnv) inBox() (float64, float64) {
	return boxLat + 10*env.rnd.Float64(), boxLon + 10*env.rnd.Float64()
}

func (env *nearEnv) outsideSquare() (float64, float64) {
	for {
		lat, lon := env.inBox()
		if math.Abs(lat-pointLat) > nearSquare || math.Abs(lon-pointLon) > nearSquare {
			return lat, lon
		}
	}
}

// seed creates n OPEN jobs at points from where through Store.CreateJob —
// the items have exactly the shape the store writes — one worker per
// parent, so no two concurrent transactions share a parent's item.
func (env *nearEnv) seed(tb testing.TB, n int, where func() (float64, float64)) {
	tb.Helper()
	jobs := make([]babysitter.Job, n)
	for i := range jobs {
		jobs[i] = newJob(env.parents[i%len(env.parents)])
		jobs[i].Latitude, jobs[i].Longitude = where()
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(env.parents))
	for w := range env.parents {
		wg.Go(func() {
			for i := w; i < n; i += len(env.parents) {
				if err := env.store.CreateJob(tb.Context(), admin, jobs[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatalf("CreateJob: %v", err)
	}
	env.jobs = append(env.jobs, jobs...)
}

// hits is how many seeded jobs lie within the radius of the i-th point.
func (env *nearEnv) hits(i int) int {
	n := 0
	for _, j := range env.jobs {
		if babysitter.DistanceKm(env.points[i][0], env.points[i][1], j.Latitude, j.Longitude) <= env.radius {
			n++
		}
	}
	return n
}

// query runs one ListJobsNear (first page) at the i-th point and returns
// the items its Queries read, the Queries it made and the jobs it found
// (all of them: the page holds them when they are fewer than the limit).
func (env *nearEnv) query(tb testing.TB, i int) (read, queries, found int) {
	tb.Helper()
	env.items.Reset()
	p := env.points[i]
	page, err := env.svc.ListJobsNear(tb.Context(), env.nanny, p[0], p[1], env.radius, babysitter.PageRequest{Limit: babysitter.MaxLimit})
	must(tb, "ListJobsNear", err)
	if page.NextCursor != "" {
		tb.Fatalf("more than %d jobs within %v km: make the test sparser", babysitter.MaxLimit, env.radius)
	}
	return env.items.Scanned(), env.items.Calls(), len(page.Items)
}

// settle waits until the (eventually consistent) index shows every seeded
// job near each point, and returns the queries' figures then, summed over
// the points.
func (env *nearEnv) settle(tb testing.TB) (read, queries, found int) {
	tb.Helper()
	for i := range env.points {
		want := env.hits(i)
		deadline := time.Now().Add(10 * time.Second)
		for {
			r, q, f := env.query(tb, i)
			if f == want {
				read, queries, found = read+r, queries+q, found+f
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("ListJobsNear at %v found %d jobs, want %d (brute force)", env.points[i], f, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return read, queries, found
}

// TestNearbyReadsOnlyNearbyCells: the items one nearby query reads are the
// OPEN jobs of the cells around the point — the same number after ten
// times as many jobs are added elsewhere in the region — in one Query per
// covering range (2 at this point; 2 to 6 for 10 km anywhere).
func TestNearbyReadsOnlyNearbyCells(t *testing.T) {
	t.Parallel()
	env := newNearEnv(t, 8)
	env.seed(t, 30, func() (float64, float64) { return env.inSquare(0.07) }) // within ~9.5 km
	env.seed(t, 30, env.outsideSquare)
	read, queries, found := env.settle(t) // at the one query point
	if found != 30 || read != 30 {
		t.Errorf("with 60 jobs: read %d items, found %d; want 30 and 30", read, found)
	}
	if queries < 1 || queries > 6 {
		t.Errorf("%d Queries, want one per covering range: 1 to 6 for a %v km radius", queries, radiusKm)
	}
	env.seed(t, 570, env.outsideSquare)
	if read2, _, found2 := env.settle(t); read2 != read || found2 != found {
		t.Errorf("with 630 jobs: read %d items, found %d; want %d and %d as with 60", read2, found2, read, found)
	}
	t.Logf("one %v km query: %d Queries, %d items read, %d jobs found, of %d jobs", radiusKm, queries, read, found, len(env.jobs))
}

// TestNearbyReadsOnlyNearbyCellsAtThePole: 50 km queries at a pole and
// near the other, where every longitude is within reach, find exactly the
// brute-force jobs in at most babysitter.MaxGeoRanges Queries each, and
// read only the OPEN jobs of the polar rows they touch: the same number
// after ten times as many jobs are added at lower latitudes (within 1° of
// the poles' rows, but in rows no query there touches).
func TestNearbyReadsOnlyNearbyCellsAtThePole(t *testing.T) {
	t.Parallel()
	env := newNearEnv(t, 8)
	env.radius = babysitter.MaxRadiusKm
	env.points = [][2]float64{{89.9, 45}, {-90, 0}}
	polar := func(lo, hi float64) func() (float64, float64) {
		return func() (float64, float64) {
			lat := lo + (hi-lo)*env.rnd.Float64()
			if env.rnd.IntN(2) == 0 {
				lat = -lat
			}
			return lat, env.rnd.Float64()*360 - 180
		}
	}
	env.seed(t, 60, polar(89.6, 90)) // within 45 km of a pole
	env.seed(t, 30, polar(88, 89))
	read, queries, found := env.settle(t)
	if queries > len(env.points)*babysitter.MaxGeoRanges || read < found || read > 60 {
		t.Errorf("with 90 jobs: %d Queries, %d items read, %d found; want at most %d Queries and %d to 60 items",
			queries, read, found, len(env.points)*babysitter.MaxGeoRanges, found)
	}
	env.seed(t, 270, polar(88, 89))
	if read2, queries2, found2 := env.settle(t); read2 != read || queries2 != queries || found2 != found {
		t.Errorf("with 360 jobs: %d Queries, %d items read, %d found; want %d, %d and %d as with 90", queries2, read2, found2, queries, read, found)
	}
	t.Logf("two %v km queries at the poles: %d Queries, %d items read, %d jobs found, of %d jobs", env.radius, queries, read, found, len(env.jobs))
}

// TestReindexNearbyMovesOldPolarKeys: OPEN jobs indexed as before the
// partitions widened toward the poles — under their own precision-4 cell —
// are missed by a nearby query until ReindexNearby moves their keys. It
// moves only theirs: a mid-latitude job keeps its keys, a cancelled job
// stays out of the index, and a second run moves nothing.
func TestReindexNearbyMovesOldPolarKeys(t *testing.T) {
	t.Parallel()
	env := newNearEnv(t, 1)
	env.radius = 1
	env.points = [][2]float64{{70, 13.8}, {89.9, 123}, {-80, -100}, {52.5, 13.4}} // runs of 2, the top row, 4; one cell
	next := 0
	env.seed(t, len(env.points)+1, func() (float64, float64) {
		p := env.points[next%len(env.points)] // the last job: a second one at 70°, to be cancelled
		next++
		return p[0], p[1]
	})
	ctx := t.Context()
	for _, j := range append(env.jobs[:3:3], env.jobs[4]) {
		_, err := env.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(env.table),
			Key:                       map[string]types.AttributeValue{"PK": sv("JOB#" + j.ID), "SK": sv("JOB#" + j.ID)},
			UpdateExpression:          aws.String("SET GSI3PK = :old"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":old": sv("CELL#" + babysitter.Geohash(j.Latitude, j.Longitude, 4))},
		})
		must(t, "UpdateItem (the old keys)", err)
	}
	_, err := env.store.TransitionJob(ctx, admin, babysitter.JobTransition{JobID: env.jobs[4].ID, From: babysitter.JobOpen, To: babysitter.JobCancelled, At: timeNow()})
	must(t, "TransitionJob", err)
	cancelled := env.jobs[4]
	env.jobs = env.jobs[:4]
	// found is how many of the points' own jobs their queries find.
	found := func() int {
		n := 0
		for i, p := range env.points {
			page, err := env.svc.ListJobsNear(ctx, env.nanny, p[0], p[1], env.radius, babysitter.PageRequest{})
			must(t, "ListJobsNear", err)
			if len(page.Items) == 1 && page.Items[0].ID == env.jobs[i].ID {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); found() != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("with the old keys, nearby queries find %d of their jobs, want 1 (the mid-latitude one)", found())
		}
	}
	moved, err := env.store.ReindexNearby(ctx)
	must(t, "ReindexNearby", err)
	if moved != 3 {
		t.Errorf("ReindexNearby moved %d jobs, want 3", moved)
	}
	env.settle(t) // every query finds its job again
	if moved, err = env.store.ReindexNearby(ctx); err != nil || moved != 0 {
		t.Errorf("ReindexNearby again: %d moved, %v; want 0 and no error", moved, err)
	}
	// gsi3pk is a job item's GSI3PK as stored ("" when it has none).
	gsi3pk := func(id string) string {
		out, err := env.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.table),
			Key: map[string]types.AttributeValue{"PK": sv("JOB#" + id), "SK": sv("JOB#" + id)}, ConsistentRead: aws.Bool(true)})
		must(t, "GetItem", err)
		if v, ok := out.Item["GSI3PK"].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	if got, want := gsi3pk(env.jobs[0].ID), "CELL#"+babysitter.GeoCell(70, 13.8); got != want {
		t.Errorf("GSI3PK of the job at 70° = %q, want %q", got, want)
	}
	if got := gsi3pk(cancelled.ID); got != "" {
		t.Errorf("the cancelled job is back in the index: GSI3PK = %q", got)
	}
}

// BenchmarkNearbyItemsRead measures the index items one ListJobsNear (10 km)
// reads, at 1,000 and at 10,000 OPEN jobs in a 10° × 10° box, averaged
// over 64 query points (ns/op is all 64):
//
//   - uniform: every job anywhere in the box, the points on a grid over
//     its middle. Ten times the jobs is ten times the density near every
//     point too: the items read grow about ten times, and stay a small
//     fraction of the total.
//   - fixed-near: 500 jobs in the square of ±0.75° around the box's
//     centre, the rest elsewhere in the box, the points within ±0.2° of
//     the centre (so every cell a query reads is in the square). The
//     density near the points does not change with the total, and
//     neither do the items read.
//
// It seeds through Store.CreateJob (10,000 or 10,500 jobs per layout, some
// 15 s each on DynamoDB Local), so it is for running by hand:
//
//	go test -run x -bench NearbyItemsRead -benchtime 1x ./store/dynamodb/
func BenchmarkNearbyItemsRead(b *testing.B) {
	for _, layout := range []struct {
		name string
		near int
	}{{"uniform", 0}, {"fixed-near", 500}} {
		b.Run(layout.name, func(b *testing.B) {
			env := newNearEnv(b, 32)
			background := env.inBox
			env.points = grid(pointLat, pointLon, 3.5, 8)
			if layout.near > 0 {
				env.seed(b, layout.near, func() (float64, float64) { return env.inSquare(nearSquare) })
				background = env.outsideSquare
				env.points = grid(pointLat, pointLon, 0.2, 8)
			}
			for _, total := range []int{1000, 10000} {
				start := time.Now()
				env.seed(b, total-len(env.jobs), background)
				seeded := time.Since(start)
				b.Run(fmt.Sprintf("total=%d", total), func(b *testing.B) {
					_, queries, found := env.settle(b)
					read := 0
					for b.Loop() {
						for i := range env.points {
							r, _, _ := env.query(b, i)
							read += r
						}
					}
					n := float64(b.N * len(env.points))
					b.ReportMetric(float64(read)/n, "items/query")
					b.ReportMetric(float64(queries)/float64(len(env.points)), "Queries/query")
					b.ReportMetric(float64(found)/float64(len(env.points)), "found/query")
					b.ReportMetric(float64(total), "jobs")
					b.Logf("seeding to %d jobs took %v", total, seeded.Round(time.Millisecond))
				})
			}
		})
	}
}
