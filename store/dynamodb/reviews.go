package dynamodb

import (
	"context"

	"github.com/babysitter-go/babysitter"
)

// CreateReview is one TransactWriteItems:
//
//	"marker"        Put the review marker JOB#<job> / REVIEW#<direction>
//	                (if new: one review per job per direction)
//	"review"        Put the review USER#<reviewee> / REVIEW#<id> (if its
//	                ID is new)
//	"job"           ConditionCheck the job, what babysitter.CheckReview
//	                decides: it exists, status = COMPLETED, username and
//	                acceptedNanny are r's parent and nanny in r's direction,
//	                and not the same user
//	user:<reviewee> Update ADD ratingCount 1, ratingSum r.Rating (must
//	                exist)
//	user:<reviewer> the Guard's condition (unless an admin)
//
// The aggregate changes in the review's own write, so it never drifts: a
// failed condition anywhere writes nothing. The cancellation reasons say
// by name which condition failed; CheckReview on the job as it returned it
// (ALL_OLD) gives the error without another read. Concurrent reviews of
// one user contend for the reviewee's item; a transaction canceled only by
// that contention is tried again (retry).
func (s *Store) CreateReview(ctx context.Context, g babysitter.Guard, r babysitter.Review) error {
	const op = "CreateReview"
	if err := guardable(g); err != nil {
		return err
	}
	if err := r.Direction.Check(); err != nil {
		return err
	}
	parent, nanny := r.Reviewer, r.Reviewee
	if r.Direction == babysitter.ReviewOfParent {
		parent, nanny = r.Reviewee, r.Reviewer
	}
	item, err := encodeReview(r)
	if err != nil {
		return err
	}
	marker, err := encodeReviewMarker(r)
	if err != nil {
		return err
	}
	t := newTxn(s.table)
	pm, pr, c := newExpr(), newExpr(), newExpr()
	t.put("marker", marker, pm, pm.notExists())
	t.put("review", item, pr, pr.notExists())
	t.check("job", jobItemKey(r.JobID), c, and(c.exists(),
		c.eq(attrJobStatus, strValue(string(babysitter.JobCompleted))),
		c.eq(attrUsername, strValue(parent)),
		c.eq(attrAcceptedNanny, strValue(nanny)),
		c.n(attrUsername)+" <> "+c.n(attrAcceptedNanny)))
	var uo userOps
	uo.add(r.Reviewee, attrRatingCount, 1)
	uo.add(r.Reviewee, attrRatingSum, int64(r.Rating))
	uo.guard(g)
	uo.addTo(t)
	reviewee := userAction(r.Reviewee)

	return retry(ctx, op, func() error {
		c, err := s.run(ctx, op, t, g)
		switch {
		case c == nil:
			return err
		case c.failed("job"):
			j, err := decodeOrNil(c.item("job"), decodeJob)
			if err != nil {
				return s.mapError(op, err)
			}
			if err := babysitter.CheckReview(j, r); err != nil {
				return err
			}
			return again(c) // it passes as it is now
		case c.failed("marker"):
			return babysitter.ReviewTaken(r)
		case c.failed(reviewee) && c.item(reviewee) == nil:
			return babysitter.UserNotFound(r.Reviewee)
		case c.failed("review"):
			return babysitter.DuplicateID("review", r.ID)
		}
		return s.undecided(op, c)
	})
}

// userReviews is the list of a user's reviews: the table's partition
// USER#<username>, sort keys beginning "REVIEW#", newest first (review IDs
// are UUIDv7 and sort by time). The user's own item (SK USER#<username>)
// is outside the range.
func userReviews(username string) list {
	return list{
		scope:  "reviews:" + username,
		pkAttr: attrPK, skAttr: attrSK,
		pk: userKey(username),
		lo: prefixReview, prefix: prefixReview,
		consistent: true,
	}
}

// ListReviews is one strongly consistent Query of the reviewee's
// partition: PK = USER#<username> AND begins_with(SK, "REVIEW#"),
// descending, one item more than the page to know whether another follows.
// The cursor is the last review returned, bound to this user's list.
func (s *Store) ListReviews(ctx context.Context, username string, p babysitter.PageRequest) (babysitter.Page[babysitter.Review], error) {
	const op = "ListReviews"
	l := userReviews(username)
	start, err := l.start(p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.Review]{}, err
	}
	n := p.Size()
	out, _, err := s.queryWith(ctx, l.query(s.table, start, n+1))
	if err != nil {
		return babysitter.Page[babysitter.Review]{}, s.mapError(op, err)
	}
	page, err := pageOf(l, out.Items, out.LastEvaluatedKey != nil, n, decodeReview)
	return page, s.mapError(op, err)
}
