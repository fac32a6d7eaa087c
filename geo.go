package babysitter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Jobs near a point are found through a geohash index. The Earth is cut
// into the rows and columns of precision-4 geohash cells (1,024 × 1,024
// cells of 0.35° × 0.18°: about 39 km × 19.5 km at the equator, narrower
// east–west toward the poles). Every OPEN job is indexed under a partition
// — a run of cells of its row, see GeoCell — with its precision-9 geohash
// as the sort key. Inside a row the geohash order is the west–east order of
// the cells (their latitude bits are the same), so the cells a circle
// touches in one partition are one contiguous range of sort keys: from the
// smallest precision-5 child (about 4.9 km × 4.9 km) the circle touches in
// the first of them to the largest in the last. A query reads, for each
// row the circle touches, one range per partition it touches there; the
// work is therefore bounded by the jobs in the cells around the point,
// never by all jobs. Exact distances are filtered with the haversine
// formula.
//
// A range is one Query of one partition, so the cost of a query is its
// number of ranges. The cells narrow with the cosine of the latitude —
// about 13 km wide at 70°, 0.7 km at 89°, and all 1,024 cells of a top row
// meet at the pole — so a partition of one cell everywhere would make a
// fixed radius touch thousands near a pole. Partitions therefore widen
// toward the poles, by latitude band (geoBands): a partition is the
// fewest cells of its row, a power of two, that are at least 20 km wide
// at the row's poleward edge — one cell below 59.06°, then 2, 4, … up to
// 256 at 89.65°, and the whole row, a disc of 19.5 km radius, at the top.
// A circle of any radius up to MaxRadiusKm thus reads at most MaxGeoRanges
// ranges anywhere on Earth, the poles and the antimeridian included (33
// at most, measured over 90,000 latitudes; TestCoveringRangesAreFew), and
// no more cells than with one cell a partition: a run is read whole
// between the first and the last cell the circle touches in it, and those
// between are touched too. (Coarser geohashes — precision 3 or 2 — would also bound the
// count, but their cells are 156 km and 625 km tall: a circle near the
// top of one is not one range of its Z-order keys, so it would read most
// of the cell or need many ranges.) The cells are found exactly — a cell
// is read only if its nearest point lies within the radius — so a 10 km
// query reads 2 to 4 ranges (6 at most, when it straddles both a row and
// a column boundary), and a 50 km one at most 24 at the equator.
const (
	// GeoCellPrecision is the geohash length of the cells that make the
	// index partitions, and of a partition's name (GeoCell).
	GeoCellPrecision = 4
	// GeoKeyPrecision is the geohash length of an index sort key (about 5 m).
	GeoKeyPrecision = 9
	// geoRangePrecision is the geohash length of the cells that bound a
	// range inside its partition.
	geoRangePrecision = 5
	// MaxRadiusKm bounds ListJobsNear's radius.
	MaxRadiusKm = 50
	// MaxGeoRanges bounds the index ranges one ListJobsNear reads (one
	// Query each on DynamoDB), at any point and radius.
	MaxGeoRanges  = 36
	earthRadiusKm = 6371.0088
)

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// Geohash returns the geohash of a point with the given number of characters.
func Geohash(lat, lon float64, precision int) string {
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	var b strings.Builder
	b.Grow(precision)
	even, bit, ch := true, 0, 0
	for b.Len() < precision {
		if even {
			mid := (lonLo + lonHi) / 2
			if lon >= mid {
				ch = ch<<1 | 1
				lonLo = mid
			} else {
				ch <<= 1
				lonHi = mid
			}
		} else {
			mid := (latLo + latHi) / 2
			if lat >= mid {
				ch = ch<<1 | 1
				latLo = mid
			} else {
				ch <<= 1
				latHi = mid
			}
		}
		even = !even
		if bit++; bit == 5 {
			b.WriteByte(geohashAlphabet[ch])
			bit, ch = 0, 0
		}
	}
	return b.String()
}

// geohashCellSize returns the size in degrees of a geohash cell.
func geohashCellSize(precision int) (dLat, dLon float64) {
	bits := 5 * precision
	lonBits := (bits + 1) / 2
	latBits := bits / 2
	return 180 / math.Exp2(float64(latBits)), 360 / math.Exp2(float64(lonBits))
}

// DistanceKm is the great-circle (haversine) distance between two points.
func DistanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(a)))
}

// GeoRange is one contiguous range of the geohash index: the jobs whose
// partition (GeoCell) is Cell and whose key (their geohash of
// GeoKeyPrecision characters) lies in [From, To]. From and To lie in the
// row of Cell, not always in Cell itself: toward the poles a partition
// holds a run of cells. A query may read two ranges of one partition, when
// the circle wraps around the antimeridian inside it.
type GeoRange struct {
	Cell, From, To string
}

// geoBox is a geohash cell's extent in degrees: [latLo, latHi) ×
// [lonLo, lonHi).
type geoBox struct{ latLo, latHi, lonLo, lonHi float64 }

// geoGrid is the grid of geohash cells of one precision: rows × cols cells
// of dLat × dLon degrees.
type geoGrid struct {
	rows, cols int
	dLat, dLon float64
}

func newGeoGrid(precision int) geoGrid {
	bits := 5 * precision
	dLat, dLon := geohashCellSize(precision)
	return geoGrid{rows: 1 << (bits / 2), cols: 1 << ((bits + 1) / 2), dLat: dLat, dLon: dLon}
}

// box is the cell at row (from the south) and col (from -180°, wrapped).
func (g geoGrid) box(row, col int) geoBox {
	col = (col%g.cols + g.cols) % g.cols
	latLo, lonLo := -90+float64(row)*g.dLat, -180+float64(col)*g.dLon
	return geoBox{latLo, latLo + g.dLat, lonLo, lonLo + g.dLon}
}

// row is the row of latitude lat, clamped to the grid.
func (g geoGrid) row(lat float64) int {
	return min(g.rows-1, max(0, int(math.Floor((lat+90)/g.dLat))))
}

// geoSlackKm absorbs rounding: a cell is read when its nearest point is
// within the radius plus a millimetre, so that floating-point differences
// between this test and DistanceKm can only add a cell, never lose a job.
const geoSlackKm = 1e-6

// geoRows is the number of rows, and of columns, of the precision-4 grid
// (10 latitude and 10 longitude bits).
const geoRows = 1 << 10

// geoBand is a band of rows of the precision-4 grid, in both hemispheres:
// from ring (rows counted from the equator) on, an index partition is a
// run of 1<<shift cells of one row.
type geoBand struct{ ring, shift int }

// geoBands is the partition of every row (see GeoCell): a partition is the
// fewest cells of its row, a power of two, that are at least 20 km wide at
// the row's poleward edge (TestGeoBandsFollowTheRule), so a circle of
// MaxRadiusKm crosses few of them in any row. A band begins at a row
// boundary, a multiple of 180°/1024, so a cell's band is exact. It is a
// data contract: the DynamoDB store's index keys follow it, and a change
// moves the keys of the jobs in the bands it changes.
var geoBands = [...]geoBand{
	{0, 0},    // |latitude| below 59.0625°: 1 cell, 0.35° of longitude
	{336, 1},  // from 59.0625°: 2 cells, 0.70°
	{427, 2},  // from 75.058594°: 4 cells, 1.41°
	{470, 3},  // from 82.617188°: 8 cells, 2.81°
	{491, 4},  // from 86.308594°: 16 cells, 5.63°
	{501, 5},  // from 88.066406°: 32 cells, 11.25°
	{506, 6},  // from 88.945312°: 64 cells, 22.5°
	{509, 7},  // from 89.472656°: 128 cells, 45°
	{510, 8},  // from 89.648438°: 256 cells, 90°
	{511, 10}, // from 89.824219°: the whole row, 360°
}

// geoRing is how many rows lie between row and the equator: 0 for the two
// rows beside it, geoRows/2-1 for the two at the poles.
func geoRing(row int) int {
	if row >= geoRows/2 {
		return row - geoRows/2
	}
	return geoRows/2 - 1 - row
}

// sectorShift is the band of row: a partition of row is a run of
// 1<<sectorShift(row) cells.
func sectorShift(row int) int {
	shift, ring := 0, geoRing(row)
	for _, b := range geoBands {
		if ring >= b.ring {
			shift = b.shift
		}
	}
	return shift
}

// GeoCell returns the index partition of a point: the precision-4 geohash
// of the first cell of its run (see GeoRange). In the rows of the mid
// latitudes a run is one cell, so GeoCell is the point's own precision-4
// geohash.
func GeoCell(lat, lon float64) string {
	return partitionOf(cellRowCol(Geohash(lat, lon, GeoCellPrecision)))
}

// partitionOf is the partition of the cell at row and col: the name of the
// first cell of its run.
func partitionOf(row, col int) string {
	return cellName(row, col&^(1<<sectorShift(row)-1))
}

// cellRowCol is the row (from the south) and the column (from -180°) of a
// precision-4 geohash: its odd bits are the latitude's, its even bits the
// longitude's.
func cellRowCol(cell string) (row, col int) {
	for i := range len(cell) {
		v := strings.IndexByte(geohashAlphabet, cell[i])
		for b := 4; b >= 0; b-- {
			if (5*i+4-b)%2 == 0 {
				col = col<<1 | v>>b&1
			} else {
				row = row<<1 | v>>b&1
			}
		}
	}
	return row, col
}

// cellName is the precision-4 geohash of the cell at row and col: the
// inverse of cellRowCol.
func cellName(row, col int) string {
	v := 0
	for i := 9; i >= 0; i-- {
		v = v<<2 | col>>i&1<<1 | row>>i&1
	}
	var b [GeoCellPrecision]byte
	for i := range b {
		b[i] = geohashAlphabet[v>>(5*(GeoCellPrecision-1-i))&31]
	}
	return string(b[:])
}

// circle is a ListJobsNear query: the points within radiusKm of (lat,
// lon).
type circle struct{ lat, lon, radiusKm float64 }

// touches reports whether any point of box b lies within the circle.
func (c circle) touches(b geoBox) bool {
	return minDistanceKm(c.lat, c.lon, b) <= c.radiusKm+geoSlackKm
}

// coveringRanges returns the index ranges that contain every point within
// radiusKm of (lat, lon): for each row of precision-4 cells the circle
// touches, one range per partition of that row (see GeoCell) in which it
// touches cells — two when the run wraps around the antimeridian inside
// one partition. The ranges are sorted by partition, then From.
func coveringRanges(lat, lon, radiusKm float64) []GeoRange {
	c := circle{lat, lon, radiusKm}
	g := newGeoGrid(GeoCellPrecision)
	delta := radiusKm / earthRadiusKm // the circle's angular radius
	deltaDeg := delta * 180 / math.Pi
	// Rows: the circle's latitude extent, and one more each side so that a
	// point on a row boundary is never lost to rounding.
	south, north := lat-deltaDeg, lat+deltaDeg
	col := int(math.Floor((lon + 180) / g.dLon))
	const eps = 1e-9 // degrees
	var ranges []GeoRange
	for row := max(0, g.row(south)-1); row <= min(g.rows-1, g.row(north)+1); row++ {
		b := g.box(row, col)
		if b.latHi < south-eps || b.latLo > north+eps {
			continue // the extra row did not touch the circle after all
		}
		if lo, hi, ok := c.rowSpan(g, row, col, reach(lat, delta, b, g.dLon)); ok {
			ranges = c.appendRowRanges(ranges, g, row, lo, hi)
		}
	}
	slices.SortFunc(ranges, func(x, y GeoRange) int {
		return cmp.Or(strings.Compare(x.Cell, y.Cell), strings.Compare(x.From, y.From))
	})
	return ranges
}

// reach estimates how many columns either side of the point's own the
// circle reaches in the row of box b: its half-width Δλ at the row's
// latitude φ nearest to its widest, asin(sin φ₀ / cos δ), where cos Δλ =
// (cos δ − sin φ₀ sin φ) / (cos φ₀ cos φ). Only a starting point for
// rowSpan, which corrects it.
func reach(lat, delta float64, b geoBox, dLon float64) int {
	rad := math.Pi / 180
	p0 := lat * rad
	widest := math.Asin(math.Max(-1, math.Min(1, math.Sin(p0)/math.Cos(delta))))
	phi := math.Max(b.latLo*rad, math.Min(b.latHi*rad, widest))
	cosHalf := (math.Cos(delta) - math.Sin(p0)*math.Sin(phi)) / (math.Cos(p0) * math.Cos(phi))
	if !(cosHalf > -1) {
		return geoRows // the whole parallel, or a pole
	}
	return int(math.Acos(math.Min(1, cosHalf))/rad/dLon) + 1
}

// rowSpan returns the columns of row the circle touches, from lo to hi
// (unwrapped: lo may be negative, hi beyond the last column; hi-lo < the
// number of columns), or ok false when it touches none. They are
// contiguous around the point's column col: along a parallel the distance
// grows with the longitude difference (cos d = sin φ₀ sin φ + cos φ₀ cos φ
// cos Δλ), so a cell is touched exactly when its nearest meridian is close
// enough. The walk starts guess columns either side and moves to the last
// touched column, so a poor guess costs steps, never a cell.
func (c circle) rowSpan(g geoGrid, row, col, guess int) (lo, hi int, ok bool) {
	touched := func(k int) bool { return c.touches(g.box(row, k)) }
	if !touched(col) {
		return 0, 0, false
	}
	hi = col + min(guess, g.cols/2-1)
	for hi > col && !touched(hi) {
		hi--
	}
	for hi < col+g.cols/2-1 && touched(hi+1) {
		hi++
	}
	lo = col - min(guess, g.cols/2)
	for lo < col && !touched(lo) {
		lo++
	}
	for lo > hi-g.cols+1 && touched(lo-1) {
		lo--
	}
	return lo, hi, true
}

// appendRowRanges appends the ranges of the touched columns lo..hi of row:
// one per partition of the row they fall in. A whole parallel is read from
// the antimeridian, as one run.
func (c circle) appendRowRanges(ranges []GeoRange, g geoGrid, row, lo, hi int) []GeoRange {
	if hi-lo+1 >= g.cols {
		lo, hi = 0, g.cols-1
	}
	size := 1 << sectorShift(row)
	wrap := func(k int) int { return (k%g.cols + g.cols) % g.cols }
	for first := lo; first <= hi; {
		start := first - (first%size+size)%size // the partition's first column
		last := min(hi, start+size-1)
		from, to := c.childSpan(g.box(row, first))
		if last != first {
			_, to = c.childSpan(g.box(row, last))
		}
		pad := strings.Repeat("z", GeoKeyPrecision-geoRangePrecision)
		ranges = append(ranges, GeoRange{
			Cell: partitionOf(row, wrap(first)),
			From: cellName(row, wrap(first)) + string(geohashAlphabet[from]),
			To:   cellName(row, wrap(last)) + string(geohashAlphabet[to]) + pad,
		})
		first = last + 1
	}
	return ranges
}

// childSpan returns the smallest and the largest precision-5 child of
// precision-4 cell b that the circle touches, as indexes of the geohash
// alphabet: the first touched in the alphabet's order, and the last. A
// precision-5 geohash adds one character, 3 longitude and 2 latitude bits
// interleaved (lon, lat, lon, lat, lon, since the 20 bits before it are an
// even count), so character j₂i₁j₁i₀j₀ is the child in column j (of 8,
// from the west) and row i (of 4, from the south).
func (c circle) childSpan(b geoBox) (lo, hi int) {
	n := len(geohashAlphabet)
	if boxWithin(c.lat, c.lon, c.radiusKm, b) {
		return 0, n - 1
	}
	dLat, dLon := (b.latHi-b.latLo)/4, (b.lonHi-b.lonLo)/8
	touched := func(ch int) bool {
		i, j := ch>>3&1<<1|ch>>1&1, ch>>4<<2|ch>>2&1<<1|ch&1
		return c.touches(geoBox{b.latLo + float64(i)*dLat, b.latLo + float64(i+1)*dLat, b.lonLo + float64(j)*dLon, b.lonLo + float64(j+1)*dLon})
	}
	lo = 0
	for lo < n && !touched(lo) {
		lo++
	}
	if lo == n {
		// The cell touches the circle while by rounding none of its
		// children does: the whole cell, rather than risk a miss.
		return 0, n - 1
	}
	hi = n - 1
	for hi > lo && !touched(hi) {
		hi--
	}
	return lo, hi
}

// boxWithin reports whether all of box b lies within radiusKm of (lat,
// lon): its corners do (the farthest point of a small box is a corner,
// since along each edge the distance has no maximum inside).
func boxWithin(lat, lon, radiusKm float64, b geoBox) bool {
	for _, p := range [4][2]float64{{b.latLo, b.lonLo}, {b.latLo, b.lonHi}, {b.latHi, b.lonLo}, {b.latHi, b.lonHi}} {
		if DistanceKm(lat, lon, p[0], p[1]) > radiusKm {
			return false
		}
	}
	return true
}

// minDistanceKm is the great-circle distance from (lat, lon) to the nearest
// point of box b: 0 inside it, along the meridian when the point is due
// north or south of it, else to the nearer of its two meridian edges (the
// nearest point of a box is never inside a parallel edge, since along a
// parallel the distance falls toward the point's longitude).
func minDistanceKm(lat, lon float64, b geoBox) float64 {
	if b.lonLo <= lon && lon <= b.lonHi {
		switch {
		case lat < b.latLo:
			return DistanceKm(lat, lon, b.latLo, lon)
		case lat > b.latHi:
			return DistanceKm(lat, lon, b.latHi, lon)
		default:
			return 0
		}
	}
	return min(meridianDistanceKm(lat, lon, b.lonLo, b.latLo, b.latHi), meridianDistanceKm(lat, lon, b.lonHi, b.latLo, b.latHi))
}

// meridianDistanceKm is the distance from (lat, lon) to the nearest point
// of the meridian segment at longitude mlon between latitudes lo and hi.
// Along a meridian, cos(distance) = sin φ·sin φp + cos φ·cos φp·cos Δλ =
// C·cos(φ − φ*) with φ* = atan2(sin φp, cos φp·cos Δλ): the nearest point is
// φ* clamped to the segment when φ* is a latitude (cos Δλ > 0), else an end.
func meridianDistanceKm(lat, lon, mlon, lo, hi float64) float64 {
	d := min(DistanceKm(lat, lon, lo, mlon), DistanceKm(lat, lon, hi, mlon))
	rad := math.Pi / 180
	if b := math.Cos(lat*rad) * math.Cos((mlon-lon)*rad); b > 0 {
		if foot := math.Atan2(math.Sin(lat*rad), b) / rad; lo < foot && foot < hi {
			d = min(d, DistanceKm(lat, lon, foot, mlon))
		}
	}
	return d
}

// NearbyJob is a job with its distance from the point of a ListJobsNear.
// Its JSON is {"job": {…}, "distanceKm": …}, the shape of the GraphQL
// NearbyJob type: the job keeps its own object rather than sharing one
// with the distance.
type NearbyJob struct {
	Job
	DistanceKm float64 `json:"distanceKm"`
}

// nearbyJobJSON is NearbyJob's JSON shape.
type nearbyJobJSON struct {
	Job        Job     `json:"job"`
	DistanceKm float64 `json:"distanceKm"`
}

// MarshalJSON writes {"job": …, "distanceKm": …}.
func (n NearbyJob) MarshalJSON() ([]byte, error) {
	return json.Marshal(nearbyJobJSON{Job: n.Job, DistanceKm: n.DistanceKm})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *NearbyJob) UnmarshalJSON(b []byte) error {
	var v nearbyJobJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = NearbyJob{Job: v.Job, DistanceKm: v.DistanceKm}
	return nil
}

// ListJobsNear lists the OPEN jobs within radiusKm (at most MaxRadiusKm) of
// a point, nearest first, for nannies and admins. It reads the geohash
// index ranges around the point (see GeoRange), never every open job.
// Pages continue after the last job returned (distance, then ID).
func (s *Service) ListJobsNear(ctx context.Context, a Actor, latitude, longitude, radiusKm float64, p PageRequest) (_ Page[NearbyJob], err error) {
	const op = "ListJobsNear"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorize(a, RoleNanny, RoleAdmin); err != nil {
		return Page[NearbyJob]{}, opErr(op, err)
	}
	var fe fieldErrors
	validateCoordinates(&fe, latitude, longitude)
	if !(radiusKm > 0 && radiusKm <= MaxRadiusKm) {
		fe.add("radiusKm", "must be greater than 0 and at most %d", MaxRadiusKm)
	}
	p, err = p.normalize()
	if err != nil {
		var ie *InvalidInputError
		errors.As(err, &ie)
		fe = append(fe, ie.Fields...)
	}
	if err := fe.err(); err != nil {
		return Page[NearbyJob]{}, opErr(op, err)
	}
	ranges := coveringRanges(latitude, longitude, radiusKm)
	scope := "near:" + strconv.FormatFloat(latitude, 'g', -1, 64) + "," +
		strconv.FormatFloat(longitude, 'g', -1, 64) + "," + strconv.FormatFloat(radiusKm, 'g', -1, 64)
	afterDist, afterID := -1.0, ""
	if p.Cursor != "" {
		key, err := DecodeCursor(scope, p.Cursor)
		if err != nil {
			return Page[NearbyJob]{}, opErr(op, err)
		}
		if afterDist, err = strconv.ParseFloat(key["d"], 64); err != nil || afterDist < 0 {
			return Page[NearbyJob]{}, opErr(op, invalid("cursor", "is not a cursor of this list"))
		}
		afterID = key["id"]
	}
	jobs, err := s.store.ListOpenJobsInRanges(ctx, guard(a, s.active), ranges)
	if err != nil {
		return Page[NearbyJob]{}, opErr(op, err)
	}
	near := make([]NearbyJob, 0, len(jobs))
	for _, j := range jobs {
		d := DistanceKm(latitude, longitude, j.Latitude, j.Longitude)
		if d > radiusKm || d < afterDist || (d == afterDist && j.ID <= afterID) {
			continue
		}
		near = append(near, NearbyJob{Job: j, DistanceKm: d})
	}
	slices.SortFunc(near, func(x, y NearbyJob) int {
		if c := cmp.Compare(x.DistanceKm, y.DistanceKm); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	page := Page[NearbyJob]{Items: near}
	if len(near) > p.Limit {
		page.Items = near[:p.Limit]
		last := page.Items[p.Limit-1]
		page.NextCursor = EncodeCursor(scope, map[string]string{
			"d": strconv.FormatFloat(last.DistanceKm, 'g', -1, 64), "id": last.ID,
		})
	}
	return page, nil
}
