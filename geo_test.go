package babysitter

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestGeohashKnownValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lat, lon float64
		want     string
	}{
		{57.64911, 10.40744, "u4pruydqq"}, // the Wikipedia example
		{52.5200, 13.4050, "u33dc0cpp"},
		{-33.8688, 151.2093, "r3gx2f77b"},
	} {
		if got := Geohash(tt.lat, tt.lon, 9); got != tt.want {
			t.Errorf("Geohash(%v, %v) = %s, want %s", tt.lat, tt.lon, got, tt.want)
		}
	}
}

func TestDistanceKm(t *testing.T) {
	t.Parallel()
	// Berlin → Paris is about 878 km.
	if d := DistanceKm(52.5200, 13.4050, 48.8566, 2.3522); d < 875 || d > 881 {
		t.Errorf("Berlin–Paris = %.1f km", d)
	}
	if d := DistanceKm(10, 10, 10, 10); d != 0 {
		t.Errorf("zero distance = %v", d)
	}
}

// destination is the point at distanceKm from (lat, lon) in direction
// bearing (degrees from north), on the sphere DistanceKm measures.
func destination(lat, lon, bearing, distanceKm float64) (float64, float64) {
	rad := math.Pi / 180
	d, th, p1 := distanceKm/earthRadiusKm, bearing*rad, lat*rad
	p2 := math.Asin(math.Sin(p1)*math.Cos(d) + math.Cos(p1)*math.Sin(d)*math.Cos(th))
	l2 := lon*rad + math.Atan2(math.Sin(th)*math.Sin(d)*math.Cos(p1), math.Cos(d)-math.Sin(p1)*math.Sin(p2))
	lon2 := math.Mod(l2/rad+540, 360) - 180 // into [-180, 180)
	return math.Max(-90, math.Min(90, p2/rad)), lon2
}

// inRanges reports whether the index would find a job at (lat, lon) in
// ranges, as the stores decide it (cell equal, key within [From, To]).
func inRanges(ranges []GeoRange, lat, lon float64) bool {
	cell, key := Geohash(lat, lon, GeoCellPrecision), Geohash(lat, lon, GeoKeyPrecision)
	for _, g := range ranges {
		if g.Cell == cell && g.From <= key && key <= g.To {
			return true
		}
	}
	return false
}

// checkCovering fails t unless the covering of the circle is well formed —
// at most MaxGeoRanges ranges, one per cell, each inside its cell — and
// contains every one of n random points within the circle, including
// points on its rim. A circle the index refuses must be wider than the
// largest radius maxRadiusAt names, which itself is accepted.
func checkCovering(t testing.TB, r *rand.Rand, lat, lon, radius float64, n int) {
	t.Helper()
	ranges, ok := coveringRanges(lat, lon, radius, MaxGeoRanges)
	if !ok {
		max := maxRadiusAt(lat, lon)
		if max >= radius {
			t.Fatalf("(%v,%v) r=%v refused, but maxRadiusAt says %v fits", lat, lon, radius, max)
		}
		if max == 0 {
			return
		}
		if ranges, ok = coveringRanges(lat, lon, max, MaxGeoRanges); !ok {
			t.Fatalf("(%v,%v): maxRadiusAt's %v km is refused", lat, lon, max)
		}
		radius = max
	}
	if len(ranges) == 0 || len(ranges) > MaxGeoRanges {
		t.Fatalf("(%v,%v) r=%v: %d ranges", lat, lon, radius, len(ranges))
	}
	cells := map[string]bool{}
	for _, g := range ranges {
		if len(g.Cell) != GeoCellPrecision || cells[g.Cell] || !strings.HasPrefix(g.From, g.Cell) || !strings.HasPrefix(g.To, g.Cell) || g.From > g.To {
			t.Fatalf("(%v,%v) r=%v: malformed or repeated range %+v in %v", lat, lon, radius, g, ranges)
		}
		cells[g.Cell] = true
	}
	for i := range n {
		d := radius * math.Sqrt(r.Float64())
		if i%4 == 0 {
			d = radius // the rim
		}
		pl, po := destination(lat, lon, r.Float64()*360, d)
		if DistanceKm(lat, lon, pl, po) > radius {
			continue // rounding put it outside: ListJobsNear would drop it too
		}
		if !inRanges(ranges, pl, po) {
			t.Fatalf("point (%v,%v) at %.4f km of (%v,%v) r=%v is in no range (%s %s) of %v",
				pl, po, DistanceKm(lat, lon, pl, po), lat, lon, radius,
				Geohash(pl, po, GeoCellPrecision), Geohash(pl, po, GeoKeyPrecision), ranges)
		}
	}
}

// TestCoveringRangesContainEveryNearbyPoint is the property the index rests
// on: every point within the radius falls in one of the ranges — at every
// latitude, the poles included, and across the antimeridian.
func TestCoveringRangesContainEveryNearbyPoint(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		lat := r.Float64()*180 - 90
		lon := r.Float64()*360 - 180
		checkCovering(t, r, lat, lon, 0.5+r.Float64()*(MaxRadiusKm-0.5), 200)
	}
	// The poles, near them, and the antimeridian, where a circle wraps.
	for _, lat := range []float64{-90, -89.999, -89.9, -89.5, -89, -85, -75, -60, 0, 60, 75, 85, 89, 89.5, 89.9, 89.999, 90} {
		for _, lon := range []float64{-180, -179.999, 0, 179.999, 180} {
			for _, radius := range []float64{0.1, 1, 10, MaxRadiusKm} {
				checkCovering(t, r, lat, lon, radius, 200)
			}
		}
	}
}

// TestCoveringRangesAreFew pins the cost of a query: one range per
// precision-4 cell the circle touches, never more than MaxGeoRanges.
func TestCoveringRangesAreFew(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lat, lon, radius float64
		max              int
	}{
		{0, 13, 10, 4}, {52, 13, 10, 4}, {0, 13, MaxRadiusKm, 20}, {45, 13, MaxRadiusKm, 26},
		{60, 13, MaxRadiusKm, 33}, {0, 180, MaxRadiusKm, 20}, {0, -180, MaxRadiusKm, 20},
	} {
		ranges, ok := coveringRanges(tt.lat, tt.lon, tt.radius, MaxGeoRanges)
		if !ok || len(ranges) > tt.max {
			t.Errorf("(%v,%v) r=%v: %d ranges (ok %v), want ≤ %d", tt.lat, tt.lon, tt.radius, len(ranges), ok, tt.max)
		}
	}
}

// TestMaxRadiusAt: the full radius up to 63° of latitude (whatever the
// longitude, so whatever the cells' alignment), less beyond, none at a
// pole itself, where all 1,024 cells of the top row meet; and every radius
// it names is accepted (checkCovering).
func TestMaxRadiusAt(t *testing.T) {
	t.Parallel()
	for lat := -63.0; lat <= 63; lat += 0.5 {
		for _, lon := range []float64{-180, -97.3, 0.1, 13.4, 179.9} {
			if r := maxRadiusAt(lat, lon); r != MaxRadiusKm {
				t.Errorf("maxRadiusAt(%v, %v) = %v, want %v", lat, lon, r, MaxRadiusKm)
			}
		}
	}
	for _, lat := range []float64{-90, 90} {
		if r := maxRadiusAt(lat, 0); r != 0 {
			t.Errorf("maxRadiusAt(%v, 0) = %v, want 0", lat, r)
		}
	}
	for _, lat := range []float64{70, 75, 80, 85, 89, 89.9} {
		r := maxRadiusAt(lat, 13.4)
		if r <= 0 || r >= MaxRadiusKm {
			t.Errorf("maxRadiusAt(%v, 13.4) = %v, want between 0 and %v", lat, r, MaxRadiusKm)
		}
		t.Logf("latitude %v: at most %v km", lat, r)
	}
}

// FuzzCoveringRanges checks the bound and the containment property on
// arbitrary circles.
func FuzzCoveringRanges(f *testing.F) {
	for _, s := range [][3]float64{{0, 0, 50}, {89.5, 13, 50}, {90, 0, 1}, {-90, 180, 0.1}, {52.5, 179.99, 25}, {-33.9, -180, 50}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, lat, lon, radius float64) {
		if math.IsNaN(lat) || math.IsNaN(lon) || math.IsNaN(radius) || math.Abs(lat) > 90 || math.Abs(lon) > 180 || !(radius > 0 && radius <= MaxRadiusKm) {
			return // ListJobsNear refuses these before any covering
		}
		checkCovering(t, rand.New(rand.NewPCG(math.Float64bits(lat), math.Float64bits(lon))), lat, lon, radius, 50)
	})
}

// BenchmarkCoveringRanges is the covering's cost for a 50 km query, and a
// refused one near a pole (which also finds the largest radius to name).
func BenchmarkCoveringRanges(b *testing.B) {
	for _, lat := range []float64{0, 60, 89.5} {
		b.Run(strconv.FormatFloat(lat, 'g', -1, 64), func(b *testing.B) {
			for b.Loop() {
				if _, ok := coveringRanges(lat, 13.4, MaxRadiusKm, MaxGeoRanges); !ok {
					benchResult = tooWideNearPole(lat, 13.4)
				}
			}
		})
	}
}
