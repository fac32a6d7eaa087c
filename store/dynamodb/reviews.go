package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// CreateReview is one TransactWriteItems:
//
//	0 Put the review marker JOB#<job> / REVIEW#<direction> (if new: one
//	  review per job per direction)
//	1 Put the review USER#<reviewee> / REVIEW#<id> (if its ID is new)
//	2 ConditionCheck the job: it exists, status = COMPLETED, username =
//	  the parent and acceptedNanny = the nanny of r's direction (ALL_OLD)
//	3 Update the reviewee: ADD ratingCount 1, ratingSum r.Rating (must
//	  exist)
//	  [4 ConditionCheck the reviewer with the Guard's condition]
//
// The aggregate changes in the review's own write, so it never drifts: a
// failed condition anywhere writes nothing. The cancellation reasons say
// which condition failed; the job's (returned as it is stored) tells
// ErrNotFound, ErrForbidden and ErrConflict apart without another read.
// Concurrent reviews of one user contend for the reviewee's item; a
// transaction canceled only by that contention is retried (bounded,
// jittered).
func (s *Store) CreateReview(ctx context.Context, g babysitter.Guard, r babysitter.Review) error {
	const op = "CreateReview"
	parent, nanny := r.Reviewer, r.Reviewee
	switch r.Direction {
	case babysitter.ReviewOfNanny:
	case babysitter.ReviewOfParent:
		parent, nanny = r.Reviewee, r.Reviewer
	default:
		return babysitter.Errorf(babysitter.ErrInvalidInput, "review direction %q", r.Direction)
	}
	item, err := reviewItem(r)
	if err != nil {
		return err
	}
	pm, pr, c := newExpr(), newExpr(), newExpr()
	cond := and(c.exists(),
		c.eq(attrJobStatus, strValue(string(babysitter.JobCompleted))),
		c.eq(attrUsername, strValue(parent)),
		c.eq(attrAcceptedNanny, strValue(nanny)))
	var uo userOps
	uo.add(r.Reviewee, attrRatingCount, 1)
	uo.add(r.Reviewee, attrRatingSum, int64(r.Rating))
	uo.guard(g)
	items := append([]types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     reviewMarker(r),
			ConditionExpression:      aws.String(pm.notExists()),
			ExpressionAttributeNames: pm.Names(),
		}},
		{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     item,
			ConditionExpression:      aws.String(pr.notExists()),
			ExpressionAttributeNames: pr.Names(),
		}},
		{ConditionCheck: &types.ConditionCheck{
			TableName:                           aws.String(s.table),
			Key:                                 jobItemKey(r.JobID),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            c.Names(),
			ExpressionAttributeValues:           c.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
	}, uo.items(s.table)...)
	const jobIdx = 2
	revieweeIdx, actorIdx := 3+uo.index(r.Reviewee), 3+uo.index(g.Username)

	for attempt := 1; ; attempt++ {
		err := s.transactRetry(ctx, items)
		reasons := cancellation(err)
		switch {
		case reasons == nil:
			return s.mapError(op, err)
		case g.Username != "" && failedAt(reasons, actorIdx):
			actor, rerr := s.reasonItem(ctx, reasons, actorIdx, userItemKey(g.Username))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			if gerr, retry := guardFailed(g, actor); !retry {
				return gerr
			} // else the actor passes the guard now (or is the reviewee, and that failed): try again
		case failedAt(reasons, jobIdx):
			old, rerr := s.reasonItem(ctx, reasons, jobIdx, jobItemKey(r.JobID))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			if old == nil {
				return jobNotFound(r.JobID)
			}
			j, derr := decodeJob(old)
			switch {
			case derr != nil:
				return s.mapError(op, derr)
			case j.ParentUsername != parent || j.AcceptedNanny != nanny || j.AcceptedNanny == "":
				return babysitter.Errorf(babysitter.ErrForbidden, "%q and %q are not the parties of job %q", r.Reviewer, r.Reviewee, r.JobID)
			case j.Status != babysitter.JobCompleted:
				return jobNotIn(j, babysitter.JobCompleted)
			} // it passes now as read: try again
		case failedAt(reasons, 0):
			return &babysitter.AlreadyExistsError{Field: babysitter.FieldReview, Value: r.JobID + "/" + string(r.Direction)}
		case failedAt(reasons, 1):
			return babysitter.Errorf(babysitter.ErrConflict, "review %q already exists", r.ID)
		case failedAt(reasons, revieweeIdx):
			return userNotFound(r.Reviewee)
		default:
			return s.mapError(op, err)
		}
		if attempt >= maxAttempts {
			return gaveUp(op, attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
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
	n := limit(p)
	out, _, err := s.queryWith(ctx, l.query(s.table, start, n+1))
	if err != nil {
		return babysitter.Page[babysitter.Review]{}, s.mapError(op, err)
	}
	page, err := pageOf(l, out.Items, out.LastEvaluatedKey != nil, n, decodeReview)
	return page, s.mapError(op, err)
}
