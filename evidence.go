package babysitter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Blobs is the object storage behind verification evidence (identity
// documents) and profile pictures: the bytes never pass through the
// Service. A client uploads straight to storage with a presigned request
// the Service hands out, and an admin reads a document the same way; the
// Service itself only checks that an upload arrived and removes objects.
// Each method is there for one step of that story:
//
//   - PresignPut: a user asks to upload a document or a picture; the
//     Service picks the key (NewUpload) and the storage signs a PUT that
//     only accepts that content type and exactly that many bytes.
//   - PresignGet: an admin views a user's document before deciding.
//   - Stat: the Service records an upload (on the user's item, a picture as
//     the profile picture) only once the object is there, of an allowed
//     type and size (CheckUploaded) — a presigned URL may never be used.
//   - Delete: DeleteUser, a replaced picture, an upload refused by Stat's
//     check.
//
// Keys are chosen by the Service, never by a client (NewUpload). Backends
// check their arguments with CheckBlobPut and CheckBlobKey, map their SDK's
// errors to the domain kinds in one place (a missing object is
// ErrNotFound) and keep the cause reachable. blob/memory is the embedded
// default, blob/s3 the production backend, and blob/blobtest the
// conformance suite both pass.
type Blobs interface {
	// PresignPut returns a request that stores one object under put.Key
	// until put.Expires from now. The request must carry Content-Type
	// put.ContentType and exactly put.ContentLength bytes: the storage
	// refuses any other type or size (both are signed), any other method,
	// and the request after it expires. Presigning writes nothing.
	PresignPut(ctx context.Context, put BlobPut) (PresignedRequest, error)
	// PresignGet returns a GET of the object at key, valid for expires
	// (1s to MaxPresignExpiry). Presigning does not check that the object
	// exists; the GET then fails with 404.
	PresignGet(ctx context.Context, key string, expires time.Duration) (PresignedRequest, error)
	// Stat returns the size and content type of the object at key, or an
	// error matching ErrNotFound.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes the objects at keys, in as few requests as the
	// storage allows. A key with no object is not an error, so Delete is
	// idempotent and safe to retry.
	Delete(ctx context.Context, keys []string) error
}

// BlobPut is what PresignPut signs.
type BlobPut struct {
	// Key is where the object goes (CheckBlobKey).
	Key string `json:"key"`
	// ContentType is the only Content-Type the upload may carry.
	ContentType string `json:"contentType"`
	// ContentLength is the exact size of the upload in bytes, declared by
	// the client up front, at least 1.
	ContentLength int64 `json:"contentLength"`
	// Expires is how long the presigned request stays valid (1s to
	// MaxPresignExpiry, whole seconds).
	Expires time.Duration `json:"-"`
}

// PresignedRequest is an HTTP request a client sends as is: Method to URL
// with every header in Headers, byte for byte (they are signed), and for a
// PUT a body of exactly the signed Content-Length. It needs no other
// credentials and stops working at Expires.
type PresignedRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers are the signed headers other than Host (the URL's), in
	// canonical form ("Content-Type", "Content-Length").
	Headers map[string]string `json:"headers,omitempty"`
	Expires time.Time         `json:"expires"`
}

// BlobInfo describes a stored object.
type BlobInfo struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ContentType  string    `json:"contentType"`
	LastModified time.Time `json:"lastModified"`
}

// Limits of presigned requests and objects.
const (
	// MaxPresignExpiry is SigV4's longest presigned validity.
	MaxPresignExpiry = 7 * 24 * time.Hour
	// MaxBlobKeyLen is S3's limit on key length, in bytes.
	MaxBlobKeyLen = 1024
	// MaxBlobSize is the largest object one S3 PUT may store.
	MaxBlobSize int64 = 5 << 30
)

// CheckBlobKey accepts the keys a Blobs stores: 1 to MaxBlobKeyLen bytes of
// letters, digits, '/', '.', '_' and '-', in '/'-separated segments none of
// which is empty, "." or "..". So a key never needs escaping, never starts
// with '/', and means the same to every backend (an HTTP path, an S3 key).
func CheckBlobKey(key string) error {
	if len(key) == 0 || len(key) > MaxBlobKeyLen {
		return invalid("key", "must be 1 to %d bytes", MaxBlobKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-') {
			return invalid("key", "must contain only letters, digits, '/', '.', '_' and '-'")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return invalid("key", "must not have an empty, '.' or '..' segment")
		}
	}
	return nil
}

// CheckBlobKeys checks the keys of a Delete, naming the first bad one
// ("keys[3]").
func CheckBlobKeys(keys []string) error {
	for i, k := range keys {
		if err := CheckBlobKey(k); err != nil {
			return invalid(fmt.Sprintf("keys[%d]", i), "%s", err.(*InvalidInputError).Fields[0].Message)
		}
	}
	return nil
}

// CheckBlobPut checks what PresignPut signs, every field at once: a valid
// key, a Content-Type that is a plain type/subtype (what the client will
// send byte for byte), a length from 1 to MaxBlobSize and an expiry from 1s
// to MaxPresignExpiry in whole seconds (SigV4's unit).
func CheckBlobPut(p BlobPut) error {
	var fe fieldErrors
	fe.addInvalid(CheckBlobKey(p.Key))
	if !validMediaType(p.ContentType) {
		fe.add("contentType", "must be a media type such as image/jpeg, without parameters")
	}
	if p.ContentLength < 1 || p.ContentLength > MaxBlobSize {
		fe.add("contentLength", "must be 1 to %d bytes", MaxBlobSize)
	}
	fe.addInvalid(CheckPresignExpiry(p.Expires))
	return fe.err()
}

// addInvalid adds the fields of an *InvalidInputError (nil adds nothing).
func (fe *fieldErrors) addInvalid(err error) {
	if ie, ok := err.(*InvalidInputError); ok {
		*fe = append(*fe, ie.Fields...)
	}
}

// CheckPresignGet checks the arguments of PresignGet, both at once.
func CheckPresignGet(key string, expires time.Duration) error {
	var fe fieldErrors
	fe.addInvalid(CheckBlobKey(key))
	fe.addInvalid(CheckPresignExpiry(expires))
	return fe.err()
}

// CheckPresignExpiry checks the validity of a presigned request: 1s to
// MaxPresignExpiry, in whole seconds.
func CheckPresignExpiry(d time.Duration) error {
	if d < time.Second || d > MaxPresignExpiry || d%time.Second != 0 {
		return invalid("expires", "must be whole seconds from 1s to %v", MaxPresignExpiry)
	}
	return nil
}

// validMediaType accepts type/subtype of lowercase letters, digits and
// "+-." — no parameters, no spaces, nothing a header could fold.
func validMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	if !ok || typ == "" || sub == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return !strings.Contains(sub, "/")
}

// UploadKind is what a user uploads: it decides the key prefix, the
// content types and the largest size.
type UploadKind string

// The upload kinds.
const (
	// UploadDocument is an identity document: private, read by admins only.
	UploadDocument UploadKind = "document"
	// UploadPicture is a profile picture: public.
	UploadPicture UploadKind = "picture"
)

// Key prefixes. Documents live under a private prefix and pictures under a
// public one, so a bucket policy can make exactly the pictures readable.
// Keys carry no username: an object's key tells nothing about its owner.
const (
	// PublicKeyPrefix is the only prefix anyone may read without a
	// presigned request.
	PublicKeyPrefix   = "public/"
	DocumentKeyPrefix = "private/documents/"
	PictureKeyPrefix  = PublicKeyPrefix + "pictures/"
)

// Upload limits.
const (
	// MaxDocumentSize is the largest identity document: a phone photo or a
	// scanned PDF.
	MaxDocumentSize int64 = 10 << 20
	// MaxPictureSize is the largest profile picture.
	MaxPictureSize int64 = 5 << 20
	// UploadExpiry is how long an upload URL stays valid: long enough to
	// send a few megabytes from a phone, short enough that a leaked URL is
	// soon useless.
	UploadExpiry = 5 * time.Minute
	// DocumentViewExpiry is how long an admin's document URL stays valid.
	DocumentViewExpiry = 5 * time.Minute
)

// Valid reports whether k is a known kind.
func (k UploadKind) Valid() bool { return k == UploadDocument || k == UploadPicture }

// Prefix is the key prefix of k's objects.
func (k UploadKind) Prefix() string {
	if k == UploadDocument {
		return DocumentKeyPrefix
	}
	return PictureKeyPrefix
}

// ContentTypes are the content types k accepts: JPEG and PNG, and PDF for
// documents.
func (k UploadKind) ContentTypes() []string {
	if k == UploadDocument {
		return []string{"image/jpeg", "image/png", "application/pdf"}
	}
	return []string{"image/jpeg", "image/png"}
}

// MaxSize is the largest object of kind k, in bytes.
func (k UploadKind) MaxSize() int64 {
	if k == UploadDocument {
		return MaxDocumentSize
	}
	return MaxPictureSize
}

// Owns reports whether key has the shape of a key NewUpload makes for k:
// k's prefix and one random segment. The Service uses it on a key a client
// sends back, before looking it up.
func (k UploadKind) Owns(key string) bool {
	rest, ok := strings.CutPrefix(key, k.Prefix())
	if !ok || len(rest) != 2*keyRandomBytes {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil && strings.ToLower(rest) == rest
}

// keyRandomBytes is the randomness in a key: 128 bits, unguessable.
const keyRandomBytes = 16

// NewUpload checks an upload request of kind k — the content type the
// client will send and the size it declares — and returns what to presign:
// a fresh random key under k's prefix, valid for UploadExpiry. Every
// offending field is named ("kind", "contentType", "contentLength").
func NewUpload(k UploadKind, contentType string, size int64) (BlobPut, error) {
	var fe fieldErrors
	if !k.Valid() {
		fe.add("kind", "must be %q or %q", UploadDocument, UploadPicture)
	} else {
		if !slices.Contains(k.ContentTypes(), contentType) {
			fe.add("contentType", "must be one of %s for a %s", strings.Join(k.ContentTypes(), ", "), k)
		}
		if size < 1 || size > k.MaxSize() {
			fe.add("contentLength", "must be 1 to %d bytes for a %s", k.MaxSize(), k)
		}
	}
	if err := fe.err(); err != nil {
		return BlobPut{}, err
	}
	var rnd [keyRandomBytes]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never returns an error
	return BlobPut{
		Key:           k.Prefix() + hex.EncodeToString(rnd[:]),
		ContentType:   contentType,
		ContentLength: size,
		Expires:       UploadExpiry,
	}, nil
}

// CheckUploaded checks a stored object (Stat) against kind k before the
// Service records it: a key k owns, an allowed content type and size. The
// presigned PUT already enforced both; this is the second lock, for an
// object that got there some other way.
func CheckUploaded(k UploadKind, info BlobInfo) error {
	var fe fieldErrors
	if !k.Owns(info.Key) {
		fe.add("key", "is not a %s key", k)
	}
	if !slices.Contains(k.ContentTypes(), info.ContentType) {
		fe.add("contentType", "stored object is %q, not one of %s", info.ContentType, strings.Join(k.ContentTypes(), ", "))
	}
	if info.Size < 1 || info.Size > k.MaxSize() {
		fe.add("contentLength", "stored object has %d bytes, not 1 to %d", info.Size, k.MaxSize())
	}
	return fe.err()
}

// ---- a user's uploads, as the Service and the Stores keep them ----

// Upload is one object of a user's — an identity document or a profile
// picture — uploaded through a presigned PUT. Its ID names it in the API;
// where it is stored (Key) is the Service's business alone.
type Upload struct {
	// ID is the random part of the object's key: 32 lowercase hex digits.
	ID   string     `json:"uploadId"`
	Kind UploadKind `json:"kind"`
	// ContentType and Size are as declared when the upload was requested,
	// and as stored once ConfirmUpload recorded it (they must agree).
	ContentType string `json:"contentType"`
	Size        int64  `json:"contentLength"`
	// RequestedOn is when the upload's presigned PUT was issued.
	RequestedOn time.Time `json:"requestedOn"`
	// UploadedOn is when ConfirmUpload recorded the object; zero while the
	// upload is only requested.
	UploadedOn time.Time `json:"uploadedOn,omitzero"`
}

// Key is where the upload's object is stored: its kind's prefix and its
// ID.
func (u Upload) Key() string { return u.Kind.Prefix() + u.ID }

// Final is the time after which no object can appear under the upload's
// key any more: its presigned PUT has expired (UploadExpiry after it was
// issued), with UploadGrace for a PUT that started just before. Deleting
// the object is final only after it; before, the client could still PUT.
func (u Upload) Final() time.Time { return u.RequestedOn.Add(UploadExpiry + UploadGrace) }

// UploadGrace is the margin after an upload URL expires before its key is
// taken as closed: an upload that started just before the expiry may
// still be arriving.
const UploadGrace = time.Minute

// Limits of one account's uploads, which keep its item small.
const (
	// MaxRequestedUploads is how many uploads an account may have requested
	// and not confirmed at once. Requests older than their URL (Final) no
	// longer count: RequestUpload discards them.
	MaxRequestedUploads = 10
	// MaxDocuments is how many identity documents an account keeps.
	MaxDocuments = 10
	// MaxDiscarded is how many objects may wait for deletion; beyond it a
	// new upload is refused until they are deleted.
	MaxDiscarded = 50
)

// ValidUploadID reports whether id has the shape of an upload ID: 32
// lowercase hex digits, the random part of a key NewUpload makes.
func ValidUploadID(id string) bool {
	if len(id) != 2*keyRandomBytes {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// uploadIDOf is the ID of a key NewUpload made for kind k.
func uploadIDOf(k UploadKind, key string) string { return strings.TrimPrefix(key, k.Prefix()) }

// UserUploads is the bookkeeping of an account's objects besides its
// documents: what the Service and the Stores need so that no object of the
// account is ever lost track of. It is never part of the API.
type UserUploads struct {
	// Requested are the uploads whose presigned PUT was issued and that
	// ConfirmUpload has not recorded: their objects may exist.
	Requested []Upload
	// Picture is the current profile picture (User.ProfilePicURL points at
	// it), nil for none.
	Picture *Upload
	// Discarded are objects no longer wanted — a replaced picture, a
	// request left unconfirmed past its URL — that the Service deletes and
	// then forgets (UploadChange.Forget).
	Discarded []Upload
	// Version increments with every change of the account's uploads:
	// stores use it for optimistic concurrency (UpdateUploads).
	Version int64
}

// all returns every upload of the account: requested, documents, picture
// and discarded.
func (u User) all() []Upload {
	out := slices.Concat(u.Uploads.Requested, u.Documents, u.Uploads.Discarded)
	if u.Uploads.Picture != nil {
		out = append(out, *u.Uploads.Picture)
	}
	return out
}

// Keys returns the storage keys of every object the account may have:
// requested, documents, picture and discarded.
func (u User) Keys() []string {
	var keys []string
	for _, x := range u.all() {
		keys = append(keys, x.Key())
	}
	return keys
}

// Verification records an admin's VERIFIED decision: who made it, when,
// and on which identity document. It is private: the user and admins see
// it, nobody else.
type Verification struct {
	// By is the deciding admin's username.
	By string    `json:"by"`
	At time.Time `json:"at"`
	// UploadID is the identity document the decision was made on; "" only
	// when Options.VerifyWithoutDocument let an admin verify without one.
	UploadID string `json:"uploadId,omitempty"`
}

// Erasure is what a deleted account leaves to remove from object storage:
// the keys of all its objects. DeleteUser's write records it with the
// deletion; the Service deletes the objects right after, and an Eraser's
// Sweep finishes what a failed or interrupted deletion left.
type Erasure struct {
	Username string
	Keys     []string
	// Due is when deleting Keys is final: the deletion's time, or later
	// when one of the account's upload URLs is still valid then (the
	// latest Upload.Final). The entry is cleared only after it.
	Due time.Time
}

// ErasureOf is the Erasure of the account u, deleted at at: every key,
// due when the last of its upload URLs has expired (a document confirmed
// a minute after its request could still be PUT again until then).
func ErasureOf(u User, at time.Time) Erasure {
	e := Erasure{Username: u.Username, Keys: u.Keys(), Due: at}
	for _, x := range u.all() {
		if f := x.Final(); f.After(e.Due) {
			e.Due = f
		}
	}
	return e
}

// CheckUploadedAs checks a stored object (Stat) against the upload it was
// requested as: CheckUploaded for its kind, and exactly the content type
// and size the request declared — what its presigned PUT signed.
func CheckUploadedAs(up Upload, info BlobInfo) error {
	var fe fieldErrors
	fe.addInvalid(CheckUploaded(up.Kind, info))
	named := func(f string) bool { return slices.ContainsFunc(fe, func(e FieldError) bool { return e.Field == f }) }
	if info.ContentType != up.ContentType && !named("contentType") {
		fe.add("contentType", "stored object is %q, the upload was requested as %q", info.ContentType, up.ContentType)
	}
	if info.Size != up.Size && !named("contentLength") {
		fe.add("contentLength", "stored object has %d bytes, the upload was requested with %d", info.Size, up.Size)
	}
	return fe.err()
}
