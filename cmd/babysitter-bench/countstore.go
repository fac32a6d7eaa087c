package main

import (
	"context"
	"time"

	"github.com/babysitter-go/babysitter"
)

// countingStore is a Store counting the calls of each method: the memory
// backend's equivalent of the DynamoDB request counts.
type countingStore struct {
	babysitter.Store
	m *callMap
}

func (s *countingStore) CreateUser(ctx context.Context, u babysitter.User) error {
	s.m.inc("CreateUser")
	return s.Store.CreateUser(ctx, u)
}

func (s *countingStore) GetUser(ctx context.Context, username string) (babysitter.User, error) {
	s.m.inc("GetUser")
	return s.Store.GetUser(ctx, username)
}

func (s *countingStore) UpdateUser(ctx context.Context, g babysitter.Guard, prevEmail string, next babysitter.User) error {
	s.m.inc("UpdateUser")
	return s.Store.UpdateUser(ctx, g, prevEmail, next)
}

func (s *countingStore) SetUserStatus(ctx context.Context, st babysitter.StatusUpdate) (babysitter.User, error) {
	s.m.inc("SetUserStatus")
	return s.Store.SetUserStatus(ctx, st)
}

func (s *countingStore) DeleteUser(ctx context.Context, g babysitter.Guard, username string, now time.Time) (babysitter.Erasure, error) {
	s.m.inc("DeleteUser")
	return s.Store.DeleteUser(ctx, g, username, now)
}

func (s *countingStore) ListUsers(ctx context.Context, g babysitter.Guard, t babysitter.UserType, p babysitter.PageRequest) (babysitter.Page[babysitter.User], error) {
	s.m.inc("ListUsers")
	return s.Store.ListUsers(ctx, g, t, p)
}

func (s *countingStore) CreateJob(ctx context.Context, g babysitter.Guard, j babysitter.Job) error {
	s.m.inc("CreateJob")
	return s.Store.CreateJob(ctx, g, j)
}

func (s *countingStore) GetJob(ctx context.Context, g babysitter.Guard, id string) (babysitter.Job, error) {
	s.m.inc("GetJob")
	return s.Store.GetJob(ctx, g, id)
}

func (s *countingStore) UpdateJob(ctx context.Context, g babysitter.Guard, next babysitter.Job) error {
	s.m.inc("UpdateJob")
	return s.Store.UpdateJob(ctx, g, next)
}

func (s *countingStore) TransitionJob(ctx context.Context, g babysitter.Guard, t babysitter.JobTransition) (babysitter.Job, error) {
	s.m.inc("TransitionJob")
	return s.Store.TransitionJob(ctx, g, t)
}

func (s *countingStore) ListJobsByStatus(ctx context.Context, g babysitter.Guard, status babysitter.JobStatus, p babysitter.PageRequest) (babysitter.Page[babysitter.Job], error) {
	s.m.inc("ListJobsByStatus")
	return s.Store.ListJobsByStatus(ctx, g, status, p)
}

func (s *countingStore) ListJobsByParent(ctx context.Context, g babysitter.Guard, parent string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Job], error) {
	s.m.inc("ListJobsByParent")
	return s.Store.ListJobsByParent(ctx, g, parent, p)
}

func (s *countingStore) ApplyToJob(ctx context.Context, g babysitter.Guard, a babysitter.Application) error {
	s.m.inc("ApplyToJob")
	return s.Store.ApplyToJob(ctx, g, a)
}

func (s *countingStore) WithdrawApplication(ctx context.Context, g babysitter.Guard, ref babysitter.ApplicationRef, now time.Time) (babysitter.Application, error) {
	s.m.inc("WithdrawApplication")
	return s.Store.WithdrawApplication(ctx, g, ref, now)
}

func (s *countingStore) ListApplicationsForJob(ctx context.Context, g babysitter.Guard, jobID string, p babysitter.PageRequest) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
	s.m.inc("ListApplicationsForJob")
	return s.Store.ListApplicationsForJob(ctx, g, jobID, p)
}

func (s *countingStore) ListJobsAppliedTo(ctx context.Context, g babysitter.Guard, nanny string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Application], error) {
	s.m.inc("ListJobsAppliedTo")
	return s.Store.ListJobsAppliedTo(ctx, g, nanny, p)
}

func (s *countingStore) BookNanny(ctx context.Context, r babysitter.BookRequest) (babysitter.Job, babysitter.Application, error) {
	s.m.inc("BookNanny")
	return s.Store.BookNanny(ctx, r)
}

func (s *countingStore) DeclinePending(ctx context.Context, jobID string, now time.Time) (babysitter.DeclineResult, error) {
	s.m.inc("DeclinePending")
	return s.Store.DeclinePending(ctx, jobID, now)
}

func (s *countingStore) ClearDeclines(ctx context.Context, jobID string) error {
	s.m.inc("ClearDeclines")
	return s.Store.ClearDeclines(ctx, jobID)
}

func (s *countingStore) DueDeclines(ctx context.Context, before time.Time, limit int) ([]string, error) {
	s.m.inc("DueDeclines")
	return s.Store.DueDeclines(ctx, before, limit)
}

func (s *countingStore) CreateReview(ctx context.Context, g babysitter.Guard, r babysitter.Review) error {
	s.m.inc("CreateReview")
	return s.Store.CreateReview(ctx, g, r)
}

func (s *countingStore) ListReviews(ctx context.Context, username string, p babysitter.PageRequest) (babysitter.Page[babysitter.Review], error) {
	s.m.inc("ListReviews")
	return s.Store.ListReviews(ctx, username, p)
}

func (s *countingStore) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	s.m.inc("ListOpenJobsInRanges")
	return s.Store.ListOpenJobsInRanges(ctx, g, ranges)
}
