package babysitter

import (
	"math/rand/v2"
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

// TestCoveringRangesContainEveryNearbyPoint is the property the index rests
// on: every point within the radius falls in one of the ranges.
func TestCoveringRangesContainEveryNearbyPoint(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		lat := r.Float64()*170 - 85
		lon := r.Float64()*360 - 180
		radius := 0.5 + r.Float64()*(MaxRadiusKm-0.5)
		ranges := coveringRanges(lat, lon, radius)
		for range 200 {
			// a random point within the radius
			pl := lat + (r.Float64()*2-1)*radius/111
			po := lon + (r.Float64()*2-1)*radius/40
			if po >= 180 {
				po -= 360
			}
			if po < -180 {
				po += 360
			}
			if pl > 90 || pl < -90 || DistanceKm(lat, lon, pl, po) > radius {
				continue
			}
			cell, key := Geohash(pl, po, GeoCellPrecision), Geohash(pl, po, GeoKeyPrecision)
			found := false
			for _, g := range ranges {
				if g.Cell == cell && g.From <= key && key <= g.To {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("point (%v,%v) at %.2f km of (%v,%v) r=%.1f is in no range (%s %s) of %v",
					pl, po, DistanceKm(lat, lon, pl, po), lat, lon, radius, cell, key, ranges)
			}
		}
	}
}

func TestCoveringRangesAreFew(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lat, radius float64
		max         int
	}{{0, 10, 6}, {52, 10, 6}, {0, MaxRadiusKm, 35}, {60, MaxRadiusKm, 60}} {
		if n := len(coveringRanges(tt.lat, 13, tt.radius)); n > tt.max {
			t.Errorf("lat %v r=%v: %d ranges, want ≤ %d", tt.lat, tt.radius, n, tt.max)
		}
	}
}
