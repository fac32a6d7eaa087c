package babysitter_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// rangeCountingStore records the widest ListOpenJobsInRanges call: the
// number of index Queries one ListJobsNear would send to DynamoDB.
type rangeCountingStore struct {
	babysitter.Store
	calls, widest atomic.Int64
}

func (s *rangeCountingStore) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	s.calls.Add(1)
	for {
		w := s.widest.Load()
		if int64(len(ranges)) <= w || s.widest.CompareAndSwap(w, int64(len(ranges))) {
			break
		}
	}
	return s.Store.ListOpenJobsInRanges(ctx, g, ranges)
}

// TestNearMatchesBruteForceAtPolesAndAntimeridian seeds OPEN jobs around
// the poles and across the antimeridian in the memory store and checks
// that ListJobsNear, every page, equals a brute-force haversine filter for
// every radius the index accepts there — and that a radius it refuses is
// invalid input that reached no index at all. No call ever reads more than
// MaxGeoRanges ranges.
func TestNearMatchesBruteForceAtPolesAndAntimeridian(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := &rangeCountingStore{Store: smemory.New()}
	svc := babysitter.New(store, qmemory.New(qmemory.Options{}), babysitter.Options{})
	parent := babysitter.Actor{Username: "polar.parent", Role: babysitter.RoleParent}
	nanny := babysitter.Actor{Username: "polar.nanny", Role: babysitter.RoleNanny}
	for _, a := range []babysitter.Actor{parent, nanny} {
		typ := babysitter.UserParent
		if a.Role == babysitter.RoleNanny {
			typ = babysitter.UserNanny
		}
		if _, err := svc.CreateUser(ctx, a, babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: typ,
			Profile: babysitter.Profile{FirstName: "Polar", LastName: "Bear", DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}}}); err != nil {
			t.Fatal(err)
		}
	}

	r := rand.New(rand.NewPCG(7, 9))
	centers := [][2]float64{
		{90, 0}, {89.999, 0}, {89.95, 45}, {89.5, -120}, {89, 179.9}, {85, -180},
		{-90, 0}, {-89.9, 10}, {-75, 180}, {0, 180}, {0, -180}, {65, 179.99}, {-40, -179.95},
	}
	// Jobs: around every center, within about 60 km, every longitude near a
	// pole; plus some exactly at the poles and on the antimeridian.
	type point struct{ lat, lon float64 }
	points := []point{{90, 0}, {90, 137}, {-90, -45}, {0, 180}, {0, -180}, {89.9999, -180}}
	for _, c := range centers {
		for range 150 {
			lat := min(90, max(-90, c[0]+(r.Float64()*2-1)*0.55))
			lon := c[1] + (r.Float64()*2-1)*2
			if c[0] > 80 || c[0] < -80 {
				lon = r.Float64()*360 - 180
			}
			points = append(points, point{lat, wrapLon(lon)})
		}
	}
	jobs := make([]babysitter.Job, len(points))
	for i, p := range points {
		d := babysitter.JobDetails{
			JobType: babysitter.JobBabysitting, Description: "Polar night", NumberOfKids: 1,
			StartDate: babysitter.Date{Year: 2030, Month: time.May, Day: 1}, EndDate: babysitter.Date{Year: 2030, Month: time.May, Day: 1},
			StartTime: 8 * 60, EndTime: 18 * 60, Address: "1 Ice Street", City: "Polar",
			Latitude: p.lat, Longitude: p.lon, Cost: babysitter.Money{Amount: 5000, Currency: "EUR"},
		}
		j, err := svc.CreateJob(ctx, parent, d)
		if err != nil {
			t.Fatalf("CreateJob at %v: %v", p, err)
		}
		jobs[i] = j
	}

	compared := 0
	for _, c := range centers {
		accepted := 0
		for _, radius := range []float64{babysitter.MaxRadiusKm, 20, 5, 1, 0.3, 0.05} {
			name := strconv.FormatFloat(c[0], 'g', -1, 64) + "," + strconv.FormatFloat(c[1], 'g', -1, 64) + " r=" + strconv.FormatFloat(radius, 'g', -1, 64)
			calls := store.calls.Load()
			got, err := nearAll(ctx, svc, nanny, c[0], c[1], radius)
			var ie *babysitter.InvalidInputError
			if errors.As(err, &ie) {
				if store.calls.Load() != calls {
					t.Errorf("%s: refused, but the index was read", name)
				}
				if len(ie.Fields) != 1 || (ie.Fields[0].Field != "radiusKm" && ie.Fields[0].Field != "latitude") {
					t.Errorf("%s: %v; want one field, radiusKm or latitude", name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			accepted++
			compared++
			var want []string
			for _, j := range jobs {
				if babysitter.DistanceKm(c[0], c[1], j.Latitude, j.Longitude) <= radius {
					want = append(want, j.ID)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: ListJobsNear found %d jobs, brute force %d", name, len(got), len(want))
			}
		}
		if accepted == 0 && c[0] > -89.99 && c[0] < 89.99 {
			t.Errorf("%v: no radius accepted", c)
		}
	}
	if compared < 30 {
		t.Errorf("only %d queries compared", compared)
	}
	if w := store.widest.Load(); w > babysitter.MaxGeoRanges {
		t.Errorf("a query read %d ranges, want ≤ %d", w, babysitter.MaxGeoRanges)
	}
}

// wrapLon brings a longitude into [-180, 180].
func wrapLon(lon float64) float64 {
	for lon > 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return lon
}

// nearAll is every job ListJobsNear returns, all pages.
func nearAll(ctx context.Context, svc *babysitter.Service, a babysitter.Actor, lat, lon, radius float64) ([]string, error) {
	var ids []string
	p := babysitter.PageRequest{Limit: 40}
	for {
		page, err := svc.ListJobsNear(ctx, a, lat, lon, radius, p)
		if err != nil {
			return nil, err
		}
		for _, j := range page.Items {
			ids = append(ids, j.ID)
		}
		if page.NextCursor == "" {
			return ids, nil
		}
		p.Cursor = page.NextCursor
	}
}
