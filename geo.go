package babysitter

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Jobs near a point are found through a geohash index. Every OPEN job is
// indexed under the precision-4 geohash cell of its location (the
// partition: about 39 km × 19.5 km at the equator, narrower east–west
// toward the poles) with its precision-9 geohash as the sort key. A query
// reads, for each precision-4 cell the circle touches, one contiguous range
// of the sort key: from the smallest to the largest precision-5 child cell
// (about 4.9 km × 4.9 km) the circle touches — geohashes are a Z-order
// curve, so a cell's children are ranges of its sort keys. The work is
// therefore bounded by the jobs in the cells around the point, never by all
// jobs. Exact distances are filtered with the haversine formula.
//
// A range is one Query of one partition, so the cost of a query is the
// number of precision-4 cells the circle touches. Those cells narrow with
// the cosine of the latitude — about 13 km wide at 70°, 0.7 km at 89°, and
// all 1,024 cells of the top row meet at the pole — so a fixed radius would
// touch thousands of them near a pole. ListJobsNear therefore never reads
// more than MaxGeoRanges ranges anywhere on Earth: a radius whose circle
// touches more cells is refused as invalid input, naming the largest radius
// that fits at that latitude: the full MaxRadiusKm up to about 63° (whatever
// the longitude), about 44 km at 70°, 31 km at 80°, 7 km at 89° and 1 km at
// 89.9° (TestMaxRadiusAt), and nothing at a pole itself, where every cell of
// the top row meets. The cells are found exactly — a cell is read only if
// its nearest point lies within the radius — so a 10 km query reads at most
// 4 ranges, and a 50 km one at most 20 at the equator and 33 at 60°.
// (Coarser partitions toward the poles would lift the limit there, but
// they change the stored index keys of the DynamoDB store.)
const (
	// GeoCellPrecision is the geohash length of an index partition.
	GeoCellPrecision = 4
	// GeoKeyPrecision is the geohash length of an index sort key (about 5 m).
	GeoKeyPrecision = 9
	// geoRangePrecision is the geohash length of the cells that bound a
	// range inside its partition.
	geoRangePrecision = 5
	// MaxRadiusKm bounds ListJobsNear's radius.
	MaxRadiusKm = 50
	// MaxGeoRanges bounds the index ranges one ListJobsNear reads (one
	// Query each on DynamoDB), at any latitude.
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
// cell (GeoCellPrecision characters) is Cell and whose key
// (GeoKeyPrecision characters) lies in [From, To].
type GeoRange struct {
	Cell, From, To string
}

// geoBox is a geohash cell's extent in degrees: [latLo, latHi) ×
// [lonLo, lonHi).
type geoBox struct{ latLo, latHi, lonLo, lonHi float64 }

func (b geoBox) center() (lat, lon float64) { return (b.latLo + b.latHi) / 2, (b.lonLo + b.lonHi) / 2 }

// geoGrid is the grid of geohash cells of one precision: rows × cols cells
// of dLat × dLon degrees.
type geoGrid struct {
	precision  int
	rows, cols int
	dLat, dLon float64
}

func newGeoGrid(precision int) geoGrid {
	bits := 5 * precision
	dLat, dLon := geohashCellSize(precision)
	return geoGrid{precision: precision, rows: 1 << (bits / 2), cols: 1 << ((bits + 1) / 2), dLat: dLat, dLon: dLon}
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

// coveringRanges returns the index ranges that contain every point within
// radiusKm of (lat, lon): one per precision-4 cell that the circle touches.
// ok is false, and no ranges are returned, when that is more than limit
// ranges; the cells are counted before their ranges are built.
func coveringRanges(lat, lon, radiusKm float64, limit int) (ranges []GeoRange, ok bool) {
	cells, ok := coveringCells(lat, lon, radiusKm, limit)
	if !ok {
		return nil, false
	}
	ranges = make([]GeoRange, 0, len(cells))
	for _, c := range cells {
		ranges = append(ranges, cellRange(lat, lon, radiusKm, c))
	}
	slices.SortFunc(ranges, func(x, y GeoRange) int { return strings.Compare(x.Cell, y.Cell) })
	return ranges, true
}

// cellRange is the range of precision-4 cell c that holds every point of c
// within radiusKm of (lat, lon): from its smallest to its largest
// precision-5 child the circle touches. A precision-5 geohash adds one
// character, 3 longitude and 2 latitude bits interleaved (lon, lat, lon,
// lat, lon, since the 20 bits before it are an even count), so the child in
// column j (of 8, from the west) and row i (of 4, from the south) is the
// alphabet's character j₂i₁j₁i₀j₀.
func cellRange(lat, lon, radiusKm float64, c geoBox) GeoRange {
	clat, clon := c.center()
	cell := Geohash(clat, clon, GeoCellPrecision)
	pad := strings.Repeat("z", GeoKeyPrecision-geoRangePrecision)
	lo, hi := byte(len(geohashAlphabet)), byte(0)
	if !boxWithin(lat, lon, radiusKm, c) {
		dLat, dLon := (c.latHi-c.latLo)/4, (c.lonHi-c.lonLo)/8
		for i := range 4 {
			for j := range 8 {
				child := geoBox{c.latLo + float64(i)*dLat, c.latLo + float64(i+1)*dLat, c.lonLo + float64(j)*dLon, c.lonLo + float64(j+1)*dLon}
				if minDistanceKm(lat, lon, child) > radiusKm+geoSlackKm {
					continue
				}
				ch := byte(j>>2<<4 | i>>1<<3 | j>>1&1<<2 | i&1<<1 | j&1)
				lo, hi = min(lo, ch), max(hi, ch)
			}
		}
	}
	if lo > hi {
		// The cell lies within the circle, or touches it while by rounding
		// none of its children does: the whole cell, rather than risk a miss.
		lo, hi = 0, byte(len(geohashAlphabet)-1)
	}
	return GeoRange{Cell: cell, From: cell + string(geohashAlphabet[lo]), To: cell + string(geohashAlphabet[hi]) + pad}
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

// coveringCells returns the precision-4 cells whose nearest point lies
// within radiusKm of (lat, lon), or ok false as soon as there are more than
// limit of them.
func coveringCells(lat, lon, radiusKm float64, limit int) (cells []geoBox, ok bool) {
	g := newGeoGrid(GeoCellPrecision)
	delta := radiusKm / earthRadiusKm // the circle's angular radius
	deltaDeg := delta * 180 / math.Pi
	// Rows: the circle's latitude extent, and one more each side so that a
	// point on a row boundary is never lost to rounding.
	south, north := lat-deltaDeg, lat+deltaDeg
	firstRow, lastRow := max(0, g.row(south)-1), min(g.rows-1, g.row(north)+1)
	// Columns: the circle's longitude extent, asin(sin δ / cos φ) either
	// side, unless it holds a pole (then every longitude). Also one more
	// each side.
	firstCol, nCols := 0, g.cols
	if halfLon := math.Asin(math.Sin(delta)/math.Cos(lat*math.Pi/180)) * 180 / math.Pi; north < 90 && south > -90 && !math.IsNaN(halfLon) {
		firstCol = int(math.Floor((lon-halfLon+180)/g.dLon)) - 1
		lastCol := int(math.Floor((lon+halfLon+180)/g.dLon)) + 1
		nCols = min(g.cols, lastCol-firstCol+1)
	}
	const eps = 1e-9 // degrees
	for row := firstRow; row <= lastRow; row++ {
		if b := g.box(row, 0); b.latHi < south-eps || b.latLo > north+eps {
			continue // the extra row did not touch the circle after all
		}
		for k := range nCols {
			b := g.box(row, firstCol+k)
			if minDistanceKm(lat, lon, b) > radiusKm+geoSlackKm {
				continue
			}
			if len(cells) == limit {
				return nil, false
			}
			cells = append(cells, b)
		}
	}
	return cells, true
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

// maxRadiusAt returns the largest radius, in steps of 0.1 km and at most
// MaxRadiusKm, whose circle around (lat, lon) needs at most MaxGeoRanges
// ranges: 0 when none does (at a pole). The cell count only grows with the
// radius, so a bisection finds it.
func maxRadiusAt(lat, lon float64) float64 {
	lo, hi := 0, MaxRadiusKm*10 // tenths of a kilometre
	if _, ok := coveringCells(lat, lon, MaxRadiusKm, MaxGeoRanges); ok {
		return MaxRadiusKm
	}
	for lo < hi-1 {
		mid := (lo + hi) / 2
		if _, ok := coveringCells(lat, lon, float64(mid)/10, MaxGeoRanges); ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return float64(lo) / 10
}

// tooWideNearPole is the invalid input of a radius whose circle touches more
// than MaxGeoRanges index cells: it names the largest radius that fits.
func tooWideNearPole(lat, lon float64) error {
	if r := maxRadiusAt(lat, lon); r > 0 {
		return invalid("radiusKm", "must be at most %.1f km at latitude %g: the index cells narrow toward the poles, and a query reads at most %d of them",
			r, lat, MaxGeoRanges)
	}
	return invalid("latitude", "%g is too close to a pole: every radius there touches more than %d index cells", lat, MaxGeoRanges)
}

// NearbyJob is a job with its distance from the point of a ListJobsNear.
type NearbyJob struct {
	Job
	DistanceKm float64 `json:"distanceKm"`
}

// ListJobsNear lists the OPEN jobs within radiusKm (at most MaxRadiusKm) of
// a point, nearest first, for nannies and admins. It reads the geohash
// index ranges around the point (see GeoRange), never every open job.
// Pages continue after the last job returned (distance, then ID).
func (s *Service) ListJobsNear(ctx context.Context, a Actor, latitude, longitude, radiusKm float64, p PageRequest) (Page[NearbyJob], error) {
	const op = "ListJobsNear"
	if err := authorize(a, RoleNanny, RoleAdmin); err != nil {
		return Page[NearbyJob]{}, opErr(op, err)
	}
	var fe fieldErrors
	validateCoordinates(&fe, latitude, longitude)
	if !(radiusKm > 0 && radiusKm <= MaxRadiusKm) {
		fe.add("radiusKm", "must be greater than 0 and at most %d", MaxRadiusKm)
	}
	p, err := p.normalize()
	if err != nil {
		var ie *InvalidInputError
		errors.As(err, &ie)
		fe = append(fe, ie.Fields...)
	}
	if err := fe.err(); err != nil {
		return Page[NearbyJob]{}, opErr(op, err)
	}
	ranges, ok := coveringRanges(latitude, longitude, radiusKm, MaxGeoRanges)
	if !ok {
		return Page[NearbyJob]{}, opErr(op, tooWideNearPole(latitude, longitude))
	}
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
