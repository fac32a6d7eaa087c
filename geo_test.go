package babysitter

import (
	"math"
	"math/rand/v2"
	"strconv"
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

// bandLatitudes are the latitudes where a band of geoBands begins, in both
// hemispheres.
func bandLatitudes() []float64 {
	var lats []float64
	for _, b := range geoBands[1:] {
		lat := float64(b.ring) * 180 / geoRows
		lats = append(lats, lat, -lat)
	}
	return lats
}

// TestGeoBandsFollowTheRule: the band table is the rule it states — a
// partition is the fewest cells of its row, a power of two, at least 20 km
// wide at the row's poleward edge — and a band begins at a row boundary.
func TestGeoBandsFollowTheRule(t *testing.T) {
	t.Parallel()
	g := newGeoGrid(GeoCellPrecision)
	for ring := range geoRows / 2 {
		poleward := float64(ring+1) * g.dLat
		shift := 0
		for shift < 10 && math.Exp2(float64(shift))*g.dLon*math.Pi/180*earthRadiusKm*math.Cos(poleward*math.Pi/180) < 20 {
			shift++
		}
		for _, row := range []int{geoRows/2 + ring, geoRows/2 - 1 - ring} {
			if got := sectorShift(row); got != shift {
				t.Errorf("row %d (ring %d, %.4f° to %.4f°): %d cells a partition, the rule says %d",
					row, ring, poleward-g.dLat, poleward, 1<<got, 1<<shift)
			}
		}
	}
}

// TestGeoCell pins the index partitions, a data contract: in the mid
// latitudes a point's own precision-4 geohash (as before the bands), and
// toward the poles the first cell of its run, from the band's first row on
// (a point on a row boundary belongs to the row above it, as in Geohash).
func TestGeoCell(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 5))
	for range 2000 {
		lat, lon := r.Float64()*118.125-59.0625, r.Float64()*360-180
		if got, want := GeoCell(lat, lon), Geohash(lat, lon, GeoCellPrecision); got != want {
			t.Fatalf("GeoCell(%v, %v) = %s, want its own cell %s", lat, lon, got, want)
		}
	}
	for _, tt := range []struct {
		lat, lon float64
		want     string
	}{
		{52.52, 13.405, "u33d"},
		{-59.0625, 0.5, "hj82"},       // the first band's southern edge: still its own cell
		{59.0625 - 1e-9, 0.5, "u42r"}, // just below the northern edge: its own cell
		{59.0625, 0.5, "u480"},        // on it: the run of 2 (its own cell is u482)
		{70, 13.8, "uk3w"},            // a run of 2 (its own: uk3y)
		{-80, -100, "1cb0"},           // a run of 4 (1cbb)
		{-88.5, 50, "j020"},           // a run of 32 (j078)
		{89.7, 179.9, "ypbn"},         // a run of 256, from 90° (zzzy)
		{89.9, 123, "bpbp"},           // the ring of 89.82°–90° is one partition …
		{90, -180, "bpbp"},            // … named after its first cell, at -180°
		{-90, 0, "0000"},              // the south pole's ring (h000)
	} {
		if got := GeoCell(tt.lat, tt.lon); got != tt.want {
			t.Errorf("GeoCell(%v, %v) = %s, want %s", tt.lat, tt.lon, got, tt.want)
		}
	}
	for range 2000 {
		row, col := r.IntN(geoRows), r.IntN(geoRows)
		if gr, gc := cellRowCol(cellName(row, col)); gr != row || gc != col {
			t.Fatalf("cellRowCol(cellName(%d, %d)) = %d, %d", row, col, gr, gc)
		}
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
// ranges, as the stores decide it: its partition is the range's, and its
// key lies within [From, To].
func inRanges(ranges []GeoRange, lat, lon float64) bool {
	cell, key := GeoCell(lat, lon), Geohash(lat, lon, GeoKeyPrecision)
	for _, g := range ranges {
		if g.Cell == cell && g.From <= key && key <= g.To {
			return true
		}
	}
	return false
}

// checkCovering fails t unless the covering of the circle is well formed —
// at most MaxGeoRanges ranges, each inside one partition, at most two a
// partition and not overlapping — and contains every one of n random
// points within the circle, including points on its rim.
func checkCovering(t testing.TB, r *rand.Rand, lat, lon, radius float64, n int) {
	t.Helper()
	ranges := coveringRanges(lat, lon, radius)
	if len(ranges) == 0 || len(ranges) > MaxGeoRanges {
		t.Fatalf("(%v,%v) r=%v: %d ranges, want 1 to %d", lat, lon, radius, len(ranges), MaxGeoRanges)
	}
	for i, g := range ranges {
		row, _ := cellRowCol(g.Cell)
		fromRow, fromCol := cellRowCol(g.From[:GeoCellPrecision])
		toRow, toCol := cellRowCol(g.To[:GeoCellPrecision])
		if len(g.Cell) != GeoCellPrecision || len(g.From) != geoRangePrecision || len(g.To) != GeoKeyPrecision || g.From > g.To ||
			fromRow != row || toRow != row || partitionOf(row, fromCol) != g.Cell || partitionOf(row, toCol) != g.Cell {
			t.Fatalf("(%v,%v) r=%v: malformed range %+v in %v", lat, lon, radius, g, ranges)
		}
		if i > 0 && ranges[i-1].Cell == g.Cell && (ranges[i-1].To >= g.From || i > 1 && ranges[i-2].Cell == g.Cell) {
			t.Fatalf("(%v,%v) r=%v: overlapping or a third range of %s in %v", lat, lon, radius, g.Cell, ranges)
		}
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
				GeoCell(pl, po), Geohash(pl, po, GeoKeyPrecision), ranges)
		}
	}
}

// TestCoveringRangesContainEveryNearbyPoint is the property the index rests
// on: every point within the radius falls in one of the ranges — at every
// latitude, the poles and the band boundaries included, and across the
// antimeridian.
func TestCoveringRangesContainEveryNearbyPoint(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		lat := r.Float64()*180 - 90
		if r.IntN(2) == 0 {
			lat = math.Copysign(90-r.ExpFloat64(), lat) // near a pole, often
		}
		checkCovering(t, r, lat, r.Float64()*360-180, 0.05+r.Float64()*(MaxRadiusKm-0.05), 100)
	}
	lats := []float64{-90, -89.999, -89.9, -89.5, -89, -85, -75, -60, 0, 60, 75, 85, 89, 89.5, 89.9, 89.999, 90}
	for _, b := range bandLatitudes() {
		lats = append(lats, b, b-1e-9, b+1e-9, b-0.1, max(-90, min(90, b+0.1)))
	}
	for _, lat := range lats {
		for _, lon := range []float64{-180, 0.17, 179.999} {
			for _, radius := range []float64{0.1, 10, MaxRadiusKm} {
				checkCovering(t, r, lat, lon, radius, 50)
			}
		}
	}
}

// TestCoveringRangesAreFew pins the cost of a query — the same as before
// the bands in the mid latitudes, and never more than MaxGeoRanges
// anywhere: a sweep over the latitudes (every 0.25°, and each band's
// first row), at the antimeridian and a random longitude, at 50 km.
func TestCoveringRangesAreFew(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lat, lon, radius float64
		max              int
	}{
		{0, 13, 10, 4}, {52, 13, 10, 4}, {0, 13, MaxRadiusKm, 20}, {45, 13, MaxRadiusKm, 26},
		{0, 180, MaxRadiusKm, 20}, {0, -180, MaxRadiusKm, 20}, {90, 0, MaxRadiusKm, 13}, {-90, 0, 1, 1},
	} {
		if n := len(coveringRanges(tt.lat, tt.lon, tt.radius)); n > tt.max {
			t.Errorf("(%v,%v) r=%v: %d ranges, want ≤ %d", tt.lat, tt.lon, tt.radius, n, tt.max)
		}
	}
	r := rand.New(rand.NewPCG(5, 8))
	lats := bandLatitudes()
	for lat := -90.0; lat <= 90; lat += 0.25 {
		lats = append(lats, lat)
	}
	worst := map[int]int{} // by band (its shift)
	g := newGeoGrid(GeoCellPrecision)
	for _, lat := range lats {
		for _, lon := range []float64{-180, r.Float64()*360 - 180} {
			n := len(coveringRanges(lat, lon, MaxRadiusKm))
			if n > MaxGeoRanges {
				t.Errorf("(%v,%v) r=%v: %d ranges, want ≤ %d", lat, lon, MaxRadiusKm, n, MaxGeoRanges)
			}
			shift := sectorShift(g.row(lat))
			worst[shift] = max(worst[shift], n)
		}
	}
	for _, b := range geoBands {
		t.Logf("from %.4f°, partitions of %4d cells: at most %d ranges at %v km", float64(b.ring)*180/geoRows, 1<<b.shift, worst[b.shift], MaxRadiusKm)
	}
}

// FuzzCoveringRanges checks the bound and the containment property on
// arbitrary circles.
func FuzzCoveringRanges(f *testing.F) {
	for _, s := range [][3]float64{{0, 0, 50}, {89.5, 13, 50}, {90, 0, 1}, {-90, 180, 0.1}, {52.5, 179.99, 25}, {-33.9, -180, 50}, {59.0625, 0.2, 50}, {-89.82421875, 180, 50}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, lat, lon, radius float64) {
		if math.IsNaN(lat) || math.IsNaN(lon) || math.IsNaN(radius) || math.Abs(lat) > 90 || math.Abs(lon) > 180 || !(radius > 0 && radius <= MaxRadiusKm) {
			return // ListJobsNear refuses these before any covering
		}
		checkCovering(t, rand.New(rand.NewPCG(math.Float64bits(lat), math.Float64bits(lon))), lat, lon, radius, 50)
	})
}

// BenchmarkCoveringRanges is the covering's cost for a 50 km query, in the
// mid latitudes, in a band of wider partitions, near a pole and at it.
func BenchmarkCoveringRanges(b *testing.B) {
	for _, lat := range []float64{0, 60, 89.5, 90} {
		b.Run(strconv.FormatFloat(lat, 'g', -1, 64), func(b *testing.B) {
			for b.Loop() {
				benchResult = coveringRanges(lat, 13.4, MaxRadiusKm)
			}
		})
	}
}
