package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/babysitter-go/babysitter"
)

// rangeConcurrency bounds the Queries one ListOpenJobsInRanges runs at
// once: a 10 km radius is 2 to 6 ranges, 50 km up to 24 at the equator and
// babysitter.MaxGeoRanges anywhere.
const rangeConcurrency = 8

// ListOpenJobsInRanges is one Query of the byCell index per range —
// GSI3PK = CELL#<cell> AND GSI3SK BETWEEN <from> AND <to>"~" (every page;
// a partition may have two ranges) —
// run concurrently, at most rangeConcurrency at a time, with the Guard's
// GetItem of a non-admin actor beside them. The index holds only OPEN jobs, so
// the items read are the OPEN jobs of the ranges' cells, never all jobs.
//
// The index is eventually consistent, like every GSI read here: for a
// moment after a booking, a cancellation or a move it may still return the
// job as it was. What it returns is checked again anyway — the item must
// say OPEN and its own location must lie in the range — so an item whose
// index keys disagree with its attributes is never returned, and a job
// found twice (the old and the new place of a move) counts once, in its
// newest version.
func (s *Store) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	const op = "ListOpenJobsInRanges"
	if err := guardable(g); err != nil {
		return nil, err
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(rangeConcurrency)
	var actor map[string]types.AttributeValue
	if k, ok := actorKey(g); ok {
		eg.Go(func() error {
			var err error
			actor, err = s.getItem(ectx, k)
			return err
		})
	}
	found := make([][]babysitter.Job, len(ranges))
	for i, r := range ranges {
		if r.From > r.To {
			continue // empty; DynamoDB rejects a BETWEEN whose bounds are reversed
		}
		eg.Go(func() error {
			var err error
			found[i], err = s.openJobsInRange(ectx, r)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, s.mapError(op, err)
	}
	if !g.Admin() {
		if err := g.Check(accountOf(actor)); err != nil {
			return nil, err
		}
	}
	var jobs []babysitter.Job
	at := map[string]int{}
	for _, js := range found {
		for _, j := range js {
			if i, ok := at[j.ID]; ok {
				if j.Version > jobs[i].Version {
					jobs[i] = j
				}
				continue
			}
			at[j.ID] = len(jobs)
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// openJobsInRange reads one range of the byCell index, every page.
func (s *Store) openJobsInRange(ctx context.Context, r babysitter.GeoRange) ([]babysitter.Job, error) {
	e := newExpr()
	cond := e.eq(attrGSI3PK, strValue(cellKey(r.Cell))) + " AND " +
		e.n(attrGSI3SK) + " BETWEEN " + e.sv(r.From) + " AND " + e.sv(r.To+geoKeyEnd)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexByCell),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	var jobs []babysitter.Job
	err := s.eachItem(ctx, in, func(item map[string]types.AttributeValue) error {
		j, err := decodeJob(item)
		if err == nil && inRange(j, r) {
			jobs = append(jobs, j)
		}
		return err
	})
	return jobs, err
}

// eachItem runs fn on every item the Query returns, every page, until fn
// fails.
func (s *Store) eachItem(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey // internal paging: not a cursor
	}
}

// inRange reports whether the job, as the index item shows it, is OPEN and
// lies in the range: in its partition, its key between From and To.
func inRange(j babysitter.Job, r babysitter.GeoRange) bool {
	if j.Status != babysitter.JobOpen || babysitter.GeoCell(j.Latitude, j.Longitude) != r.Cell {
		return false
	}
	k := babysitter.Geohash(j.Latitude, j.Longitude, babysitter.GeoKeyPrecision)
	return r.From <= k && k <= r.To
}

// ReindexNearby rewrites the byCell keys of the OPEN jobs indexed under
// another partition than babysitter.GeoCell gives — jobs written before the
// partitions widened toward the poles, at |latitude| ≥ 59.0625° — and
// returns how many it rewrote; a nearby query misses such jobs until then.
// Run it once every writer runs this version. It reads the OPEN jobs
// through the byStatus index (one Query a page of them) and moves a job's
// keys with one UpdateItem conditional on the job being still OPEN, at the
// version read and under other keys, so a job booked, cancelled, moved or
// already moved meanwhile is left as its own write made it. A second run
// rewrites nothing.
func (s *Store) ReindexNearby(ctx context.Context) (int, error) {
	const op = "ReindexNearby"
	e := newExpr()
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexByStatus),
		KeyConditionExpression:    aws.String(e.eq(attrGSI2PK, strValue(jobStatusKey(babysitter.JobOpen)))),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	moved := 0
	var written error // a failed UpdateItem's, already mapped
	err := s.eachItem(ctx, in, func(item map[string]types.AttributeValue) error {
		j, err := decodeJob(item)
		if err != nil {
			return err
		}
		geo := geoKeys(j.ID, j.Latitude, j.Longitude)
		if str(item, attrGSI3PK) == geo[attrGSI3PK] {
			return nil
		}
		e := newExpr()
		up := (&update{e: e}).Set(attrGSI3PK, strValue(geo[attrGSI3PK])).Set(attrGSI3SK, strValue(geo[attrGSI3SK]))
		cond := and(e.exists(), e.eq(attrJobStatus, strValue(string(babysitter.JobOpen))),
			e.eq(attrVersion, number(j.Version)), e.ne(attrGSI3PK, strValue(geo[attrGSI3PK])))
		updated, err := s.updateItem(ctx, op, jobItemKey(j.ID), up, cond,
			func(map[string]types.AttributeValue, error) error { return nil }) // changed meanwhile: leave it
		if updated != nil {
			moved++
		}
		written = err
		return err
	})
	if written != nil {
		return moved, written
	}
	return moved, s.mapError(op, err)
}
