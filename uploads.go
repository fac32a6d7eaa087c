package babysitter

import (
	"context"
	"errors"
	"fmt"
)

// UploadRequest is the input of RequestUpload: what the client will
// upload.
type UploadRequest struct {
	Kind UploadKind `json:"kind"`
	// ContentType is the Content-Type the upload will carry: image/jpeg,
	// image/png, or application/pdf for a document.
	ContentType string `json:"contentType"`
	// ContentLength is the exact size of the upload in bytes, up to the
	// kind's MaxSize.
	ContentLength int64 `json:"contentLength"`
}

// UploadTicket is the answer to RequestUpload: the upload as recorded, and
// the presigned PUT that stores it. The client sends Request as is — its
// method, URL and every header, with a body of exactly ContentLength
// bytes — then calls ConfirmUpload with Upload.ID.
type UploadTicket struct {
	Upload  Upload           `json:"upload"`
	Request PresignedRequest `json:"request"`
}

// UploadRef names one upload of one user.
type UploadRef struct {
	Username string `json:"username"`
	UploadID string `json:"uploadId"`
}

// errNoBlobs is the error of an upload operation on a Service without
// object storage (Options.Blobs): a configuration error, not a domain one.
var errNoBlobs = errors.New("no object storage: Options.Blobs is not set")

// authorizeOwnAccount lets a parent or a nanny through for their own
// account: uploads belong to an account, and admins have none.
func authorizeOwnAccount(a Actor, username string) error {
	if err := authorize(a, RoleParent, RoleNanny); err != nil {
		return err
	}
	if a.Username != username {
		return Errorf(ErrForbidden, "only %q uploads to their own account", username)
	}
	return nil
}

// checkUploadRef checks a reference to an upload, both fields at once.
func checkUploadRef(r UploadRef) error {
	var fe fieldErrors
	if !ValidUsername(r.Username) {
		fe.add("username", "must be 3 to 32 characters of a-z, 0-9, '_', '.', '-'")
	}
	if !ValidUploadID(r.UploadID) {
		fe.add("uploadId", "must be an upload ID: 32 lowercase hex digits")
	}
	return fe.err()
}

// RequestUpload starts an upload of an identity document or a profile
// picture to the caller's own account (a parent or a nanny, not
// deactivated): it records the upload on the account, then returns a
// presigned PUT, valid for UploadExpiry, that stores exactly that content
// type and that many bytes under a key the Service chose (under a private
// prefix for documents, a public one for pictures; the key carries no
// username). The bytes never pass through the Service. The client then
// calls ConfirmUpload.
//
// At most MaxRequestedUploads may be pending at once; requests whose URL
// has expired are discarded (their objects deleted) as new ones come.
func (s *Service) RequestUpload(ctx context.Context, a Actor, username string, in UploadRequest) (_ UploadTicket, err error) {
	const op = "RequestUpload"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorizeOwnAccount(a, username); err != nil {
		return UploadTicket{}, opErr(op, err)
	}
	if err := validUsernameArg(username); err != nil {
		return UploadTicket{}, opErr(op, err)
	}
	put, err := NewUpload(in.Kind, in.ContentType, in.ContentLength)
	if err != nil {
		return UploadTicket{}, opErr(op, err)
	}
	if s.blobs == nil {
		return UploadTicket{}, opErr(op, errNoBlobs)
	}
	if in.Kind == UploadPicture && s.publicBaseURL == "" {
		return UploadTicket{}, opErr(op, errors.New("no public URL for pictures: Options.PublicBaseURL is not set"))
	}
	now := s.now()
	up := Upload{ID: uploadIDOf(in.Kind, put.Key), Kind: in.Kind, ContentType: put.ContentType, Size: put.ContentLength, RequestedOn: now}
	g := guard(a, s.active)
	// Recorded before it is signed: an object can only ever arrive under a
	// key the account knows of.
	u, err := s.store.UpdateUploads(ctx, g, UploadChange{Username: username, Request: &up, At: now})
	if err != nil {
		return UploadTicket{}, opErr(op, err)
	}
	pr, err := s.blobs.PresignPut(ctx, put)
	if err != nil {
		return UploadTicket{}, opErr(op, fmt.Errorf("presigning the upload: %w", err))
	}
	s.discard(ctx, g, u)
	return UploadTicket{Upload: up, Request: pr}, nil
}

// ConfirmUpload records an upload of the caller's own account once its
// object is stored: of the requested content type and size (the presigned
// PUT enforced both; this checks again what is stored). A document joins
// the account's Documents; a picture becomes the profile picture —
// ProfilePicURL is set from its key — and the previous one is deleted. It
// returns the account as the caller sees it.
//
// An object that does not match its request (another type or size) is
// deleted, and the call refused naming the field (ErrInvalidInput); the
// account is not changed, and the upload may be sent again while its URL
// is valid. Nothing uploaded yet is ErrConflict; an upload ID that is not
// one of the account's is ErrNotFound. Confirming an upload again changes
// nothing.
func (s *Service) ConfirmUpload(ctx context.Context, a Actor, r UploadRef) (_ User, err error) {
	const op = "ConfirmUpload"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorizeOwnAccount(a, r.Username); err != nil {
		return User{}, opErr(op, err)
	}
	if err := checkUploadRef(r); err != nil {
		return User{}, opErr(op, err)
	}
	if s.blobs == nil {
		return User{}, opErr(op, errNoBlobs)
	}
	u, err := s.store.GetUser(ctx, r.Username)
	if err != nil {
		return User{}, opErr(op, err)
	}
	// The Guard on the account as read, before anything is looked at or
	// answered: the write below applies it again, atomically, but an
	// upload already recorded writes nothing, and its ID may be public
	// (a picture's is in ProfilePicURL).
	g := guard(a, s.active)
	if err := g.Check(&u); err != nil {
		return User{}, opErr(op, err)
	}
	up, done, err := CheckRequested(&u, r.UploadID)
	if err != nil {
		return User{}, opErr(op, err)
	}
	if done {
		return u, nil
	}
	info, err := s.blobs.Stat(ctx, up.Key())
	if errors.Is(err, ErrNotFound) {
		return User{}, opErr(op, Errorf(ErrConflict, "nothing is uploaded under upload %q yet: send its presigned PUT first", up.ID))
	}
	if err != nil {
		return User{}, opErr(op, fmt.Errorf("reading upload %s: %w", up.ID, err))
	}
	if err := CheckUploadedAs(up, info); err != nil {
		// Not what was asked for: it goes, and nothing is recorded.
		if derr := s.blobs.Delete(ctx, []string{up.Key()}); derr != nil {
			return User{}, opErr(op, errors.Join(err, fmt.Errorf("deleting the refused object: %w", derr)))
		}
		return User{}, opErr(op, err)
	}
	now := s.now()
	c := UploadChange{Username: r.Username, At: now}
	conf := up
	conf.ContentType, conf.Size, conf.UploadedOn = info.ContentType, info.Size, now
	c.Confirm = &conf
	if up.Kind == UploadPicture {
		c.PictureURL = s.publicBaseURL + up.Key()
	}
	next, err := s.store.UpdateUploads(ctx, g, c)
	if err != nil {
		return User{}, opErr(op, err)
	}
	s.discard(ctx, g, next)
	return next, nil
}

// GetDocument returns a presigned GET of one of a user's identity
// documents, valid for DocumentViewExpiry; admins only, who decide on it
// (UpdateUserStatus). Only the user's own Documents are served: any other
// upload ID — another user's document, a picture, an upload not confirmed
// — is ErrNotFound (a requested one ErrConflict).
func (s *Service) GetDocument(ctx context.Context, a Actor, r UploadRef) (_ PresignedRequest, err error) {
	const op = "GetDocument"
	ctx, end := s.tel.start(ctx, op, a, spanIDs{})
	defer func() { end(err) }()
	if err := authorize(a, RoleAdmin); err != nil {
		return PresignedRequest{}, opErr(op, err)
	}
	if err := checkUploadRef(r); err != nil {
		return PresignedRequest{}, opErr(op, err)
	}
	if s.blobs == nil {
		return PresignedRequest{}, opErr(op, errNoBlobs)
	}
	u, err := s.store.GetUser(ctx, r.Username)
	if err != nil {
		return PresignedRequest{}, opErr(op, err)
	}
	doc, err := CheckDocument(&u, r.UploadID)
	if err != nil {
		return PresignedRequest{}, opErr(op, err)
	}
	pr, err := s.blobs.PresignGet(ctx, doc.Key(), DocumentViewExpiry)
	if err != nil {
		return PresignedRequest{}, opErr(op, fmt.Errorf("presigning document %s: %w", doc.ID, err))
	}
	return pr, nil
}

// discard deletes the account's discarded objects whose upload URLs have
// expired (Upload.Final: nothing can arrive under their keys again), then
// forgets them. It is best effort and logs what fails: what is left stays
// discarded, for the next upload or for DeleteUser's Erasure.
func (s *Service) discard(ctx context.Context, g Guard, u User) {
	now := s.now()
	var keys, ids []string
	for _, d := range u.Uploads.Discarded {
		if d.Final().Before(now) {
			keys, ids = append(keys, d.Key()), append(ids, d.ID)
		}
	}
	if len(keys) == 0 {
		return
	}
	if err := s.blobs.Delete(ctx, keys); err != nil {
		s.log.WarnContext(ctx, "deleting discarded objects failed; they are tried again later", "username", u.Username, "objects", len(keys), "err", err)
		return
	}
	if _, err := s.store.UpdateUploads(ctx, g, UploadChange{Username: u.Username, Forget: ids, At: now}); err != nil {
		s.log.WarnContext(ctx, "forgetting deleted objects failed; they are deleted again later", "username", u.Username, "objects", len(ids), "err", err)
	}
}
