package memory

import (
	"context"
	"maps"

	"github.com/babysitter-go/babysitter"
)

type reviewKey struct {
	job string
	dir babysitter.ReviewDirection
}

// CreateReview inserts r and adds its rating to the reviewee's aggregate,
// as babysitter.CheckReview allows, once per job and direction.
func (s *Store) CreateReview(ctx context.Context, g babysitter.Guard, r babysitter.Review) error {
	return s.write(ctx, &g, func() error {
		if err := babysitter.CheckReview(s.job(r.JobID), r); err != nil {
			return err
		}
		key := reviewKey{r.JobID, r.Direction}
		if s.reviewed[key] {
			return babysitter.ReviewTaken(r)
		}
		reviewee, ok := s.users[r.Reviewee]
		if !ok {
			return babysitter.UserNotFound(r.Reviewee)
		}
		if _, ok := s.reviews[r.ID]; ok {
			return babysitter.DuplicateID("review", r.ID)
		}
		c := r
		c.Answers = maps.Clone(r.Answers)
		s.reviews[r.ID] = &c
		s.reviewsOf[r.Reviewee] = insertSorted(s.reviewsOf[r.Reviewee], r.ID)
		s.reviewed[key] = true
		reviewee.Rating.Count++
		reviewee.Rating.Sum += int64(r.Rating)
		return nil
	})
}

// ListReviews lists the reviews of a user, newest first.
func (s *Store) ListReviews(ctx context.Context, username string, p babysitter.PageRequest) (babysitter.Page[babysitter.Review], error) {
	scope := scopeReviewsOf + username
	before, err := decode(scope, keyID, p.Cursor)
	if err != nil {
		return babysitter.Page[babysitter.Review]{}, err
	}
	var page babysitter.Page[babysitter.Review]
	err = s.read(ctx, nil, func() error {
		page = descPage(scope, s.reviewsOf[username], before, p.Size(), func(id string) babysitter.Review {
			r := *s.reviews[id]
			r.Answers = maps.Clone(r.Answers)
			return r
		})
		return nil
	})
	return page, err
}
