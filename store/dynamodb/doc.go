// Package dynamodb is the production babysitter.Store: every entity in one
// DynamoDB table with three global secondary indexes, every Store method
// one or two requests (one per geohash range for jobs near a point), every
// rule decided inside one conditional write.
//
// # Who decides
//
// The rules are the root package's Check functions (babysitter.CheckBooking,
// CheckApply, Guard.Check …); this package words no domain error of its
// own. A write reads what it already needed to read, decides with the Check
// function on it, and writes one transaction whose condition expressions
// say the same thing as that function. When a condition fails, the item the
// failure returned (ReturnValuesOnConditionCheckFailure ALL_OLD) — or a
// fresh read — goes to the same Check function, which gives the error; when
// it passes now (the item changed in between), the write is tried again
// (bounded, jittered: retry). A transaction's actions are named ("job",
// "application", user:<username> …) and a cancellation is read by name.
//
// The Guard is a condition on the actor's user item: for a non-admin actor
// attribute_exists(PK) AND type = the role's account type (PARENT for a
// parent, NANNY for a nanny) AND status IN (Allow, without DEACTIVATED), in
// the same action as any counter change on that item (DynamoDB rejects two
// actions on one item). An admin has no account: no condition, no read.
// Reads apply Guard.Check to the actor's item read beside them.
//
// # Key design
//
//	item                        PK                 SK                      GSI1PK / GSI1SK                         GSI2PK / GSI2SK
//	user                        USER#<username>    USER#<username>         USER#<username> / USER#<username>       USERTYPE#<type> / USER#<username>
//	email reservation           USEREMAIL#<email>  USEREMAIL#<email>       –                                       –
//	job                         JOB#<id>           JOB#<id>                USER#<parent> / JOB#<id>                JOBSTATUS#<status> / JOB#<id>
//	application                 JOB#<jobId>        APPLICATION#<appId>     USER#<nanny> / APPLICATION#<appId>      –
//	applicant marker            JOB#<jobId>        APPLICANT#<nanny>       –                                       –
//	review                      USER#<reviewee>    REVIEW#<reviewId>       –                                       –
//	review marker               JOB#<jobId>        REVIEW#<direction>      –                                       –
//	username tombstone          USER#<username>    TOMBSTONE               –                                       –
//	outbox: declines due        DECLINES#<0–3>     JOB#<jobId>             –                                       –
//	outbox: objects to erase    ERASE#<0–3>        USER#<username>         –                                       –
//
//	OPEN job only               GSI3PK = CELL#<partition: babysitter.GeoCell, 4 characters>   GSI3SK = <geohash, 9 characters>#<id>
//
// Indexes (all project ALL): GSI1 "byUser" (GSI1PK, GSI1SK), GSI2
// "byStatus" (GSI2PK, GSI2SK) and GSI3 "byCell" (GSI3PK, GSI3SK). The
// attribute names are generic so one index serves several patterns. The
// applicant marker (attributes applicationId, username) makes "one
// application per nanny per job" a put-if-absent; the review marker
// (attributes reviewId, username: the reviewer) makes "one review per job
// per direction" one. The username tombstone (attributes username,
// deletedOn) is put by DeleteUser in the transaction that deletes the user,
// and CreateUser's transaction requires it absent, so a deleted username is
// never registered again and nothing the deleted user owned passes to
// someone else; it is in the user's partition under a sort key no Query
// range reads (a user's reviews are begins_with "REVIEW#") and has no
// index keys. User items carry one counter, openJobs (a parent's OPEN
// jobs), changed in the same transactions as the jobs it counts, so that
// DeleteUser's rule is a condition on one item; and the rating aggregate
// as two numbers, ratingCount and ratingSum (User.Rating), changed in the
// same transaction as the review they count. UpdateUser never writes them.
// A nanny's pendingApplications counter is gone (a decline writes only
// the application); user items written before still carry it, and it is
// ignored.
//
// A user's objects in storage (babysitter.Upload: identity documents, the
// profile picture, uploads requested or discarded) are a map uploads on
// the user item, upload ID → {kind, state, contentType, size,
// requestedOn, uploadedOn}, the state one of requested, confirmed,
// discarded; with the counter uploadsVersion, the condition of every
// change of the map (UpdateUploads reads the item, decides with
// babysitter.ApplyUploadChange and writes the whole map if uploadsVersion
// is still the one it read). The admin's VERIFIED decision is the map
// verification {by, at, uploadId}; SetUserStatus checks the document it
// names with a condition on the map's entry — uploads.<id>.state =
// confirmed and uploads.<id>.kind = document — so the decision stays one
// UpdateItem. profilePicUrl is written only with the picture it points
// at, never by UpdateUser. No key of an object carries the username: the
// user item is the only place that ties objects to an account.
//
// The erasure item (attributes username, keys, due) is the outbox of a
// deleted account's objects: DeleteUser puts it in the transaction that
// deletes the user — with the user's uploadsVersion in the delete's
// condition, so it names every object — and an Eraser deletes it once the
// objects are deleted and no upload URL of the account is valid any more
// (due). DueErasures reads its four shards as DueDeclines reads the
// declines', so a deletion that failed or never ran is found.
//
// The outbox item (attributes jobId, due: a fixed-width UTC time) says a
// job's declines are due: BookNanny and the TransitionJob that cancels put
// it in the transaction that moves the job out of OPEN, DeclinePending
// deletes it once no application is PENDING, and DueDeclines finds the
// ones left behind by a lost message (Decliner.Sweep). The shard is an
// FNV hash of the job ID modulo 4, so bookings spread their puts and
// deletes over four partitions; the outbox holds only jobs in flight, so a
// sweep reads few items.
//
// byCell is sparse: only OPEN jobs have its keys. CreateJob writes them,
// UpdateJob rewrites them (the location may change), and every write that
// moves a job out of OPEN (BookNanny, TransitionJob to CANCELLED) removes
// them, so the index holds the OPEN jobs and nothing else — a nearby
// query reads the open jobs of a few cells, never the closed history. The
// partition is babysitter.GeoCell of the job's location: below 59.0625° of
// latitude its precision-4 geohash cell (about 39 km × 19.5 km at the
// equator); toward the poles, where those cells narrow to nothing, a run
// of 2, 4, … 256 cells of one row and at the top the whole row, named
// after its first cell, so a partition is at least 20 km wide (or a whole
// row) and a query at most babysitter.MaxGeoRanges ranges anywhere. The sort key is
// the precision-9 geohash (about 5 m) then the job ID; inside a row the
// geohashes of the cells follow their west–east order, so a range of
// geohashes in one partition is a range of sort keys: "<hash>#<id>" lies
// in [From, To+"~"] exactly when From ≤ hash ≤ To ('#' sorts below every
// geohash character, '~' above). It projects ALL because a nearby query
// returns whole jobs: with KEYS_ONLY each range would need a second round
// trip, a BatchGetItem of every hit (up to 100 keys a call), and read
// capacity for every job read twice; ALL costs index storage for the OPEN
// jobs only (a sparse index, about 1 KB a job) and keeps one Query per
// range. Partitions are small enough that one busy city is not one hot
// partition for a whole region, large enough that a 10 km query is a
// handful of ranges (babysitter.GeoRange).
//
// The polar partitions came with a later version; before it every OPEN
// job was under its own precision-4 cell. Jobs below 59.0625° keep exactly
// those keys. An OPEN job at or beyond it written by an earlier version is
// not found by a nearby query until its keys move: a table with no OPEN
// job there needs nothing; otherwise run Store.ReindexNearby once every
// writer runs the new version (it moves only the keys that differ,
// conditionally, and a second run moves nothing).
//
// Access patterns (newest first = ScanIndexForward false; IDs are UUIDv7
// and sort by creation time):
//
//	GetUser, DeleteUser's read    GetItem USER#u / USER#u (strongly consistent)
//	CreateUser's username check   in its transaction: Put USER#u / USER#u if absent, ConditionCheck USER#u /
//	                              TOMBSTONE absent, Put USEREMAIL#e if absent
//	GetJob                        GetItem JOB#id / JOB#id; for a non-admin actor, BatchGetItem of it and the
//	                              actor's user item
//	ListUsers(type)               Query byStatus  GSI2PK = USERTYPE#<type>, ascending
//	ListJobsByStatus(status)      Query byStatus  GSI2PK = JOBSTATUS#<status>, begins_with(GSI2SK, "JOB#"), newest first
//	ListJobsByParent(p)           Query byUser    GSI1PK = USER#p AND GSI1SK BETWEEN "JOB#" AND "USER#p", descending:
//	                                              the parent's item, then the jobs newest first
//	ListJobsAppliedTo(n)          Query byUser    GSI1PK = USER#n AND GSI1SK BETWEEN "APPLICATION#" AND "USER#n",
//	                                              descending: the nanny's item, then the applications newest first
//	ListApplicationsForJob(id)    Query table     PK = JOB#id AND SK BETWEEN "APPLICATION#" AND "JOB#id", descending,
//	                                              strongly consistent: the job, then its applications newest first
//	DeclinePending(id)            Query table     PK = JOB#id AND SK BETWEEN "APPLICATION#" AND "JOB#id", descending,
//	                                              strongly consistent, every page: the job, then its applications
//	DueDeclines(before)           Query table     per outbox shard: PK = DECLINES#<0–3>, strongly consistent, filter
//	                                              due < before; concurrently
//	DueErasures(before)           Query table     per erasure shard: PK = ERASE#<0–3>, as DueDeclines
//	ListReviews(u)                Query table     PK = USER#u AND begins_with(SK, "REVIEW#"), descending,
//	                                              strongly consistent (review IDs are UUIDv7: newest first)
//	ListOpenJobsInRanges(ranges)  Query byCell    per range: GSI3PK = CELL#<cell> AND GSI3SK BETWEEN <from>
//	                                              AND <to>"~", every page; concurrently, at most 8 at a time
//	BookNanny's applicant check   in its transaction: ConditionCheck USER#<nanny> (exists, type NANNY, status
//	                              IN the allowed ones); the nanny's username is in the application, so the
//	                              read before it cannot include the nanny's item
//	CreateReview's checks         in its transaction: the job (ConditionCheck COMPLETED, parent, acceptedNanny, not one user),
//	                                              the marker (put if absent), the reviewee (exists), the reviewer (Guard)
//
// Index reads are eventually consistent (DynamoDB's rule for GSIs): a job
// just created may be missing from ListJobsByStatus or from a nearby query
// for a moment, and one just booked or cancelled still in it. A nearby
// query checks each item it reads (OPEN, location inside the range), so an
// item whose index keys disagree with it is never returned. The lists
// headed by a user fall back to a strongly consistent GetItem when the
// user's item is not (yet) in the index, so a new user is never reported
// missing.
//
// # Requests per operation
//
//	CreateUser              1 TransactWriteItems (Put user, Put email reservation, both if absent; ConditionCheck
//	                        no tombstone)
//	GetUser                 1 GetItem
//	UpdateUser              1 UpdateItem; 1 TransactWriteItems when the email changes (move the reservation)
//	SetUserStatus           1 UpdateItem (ReturnValues ALL_NEW; a VERIFIED decision on a document: its condition
//	                        names the document's entry in uploads)
//	UpdateUploads           1 GetItem (BatchGetItem with another non-admin actor) + 1 UpdateItem (condition:
//	                        uploadsVersion as read); nothing more when the change changes nothing
//	DeleteUser              1 GetItem (BatchGetItem with another non-admin actor) + 1 TransactWriteItems (Delete
//	                        user if openJobs is 0 and uploadsVersion as read, Delete reservation, Put tombstone,
//	                        Put the erasure item when the account has objects)
//	ListUsers               1 Query (+ 1 GetItem of a non-admin actor beside it)
//	CreateJob               1 TransactWriteItems (Put job, Update parent openJobs+1 with the Guard)
//	GetJob                  1 GetItem for an admin, else 1 BatchGetItem (job and actor)
//	UpdateJob               1 UpdateItem for an admin, else 1 TransactWriteItems (+ the actor's ConditionCheck)
//	TransitionJob           1 UpdateItem for an admin's CLOSED → COMPLETED; else 1 GetItem/BatchGetItem + 1
//	                        TransactWriteItems (job; parent openJobs-1 when it leaves OPEN; the Guard)
//	ListJobsByStatus        1 Query (+ the actor's GetItem beside it)
//	ListJobsByParent        1 Query on the first page (the parent's item is in it); later pages + 1 GetItem beside it
//	ApplyToJob              1 TransactWriteItems (ConditionCheck job OPEN and not the nanny's, Put application,
//	                        Put marker, ConditionCheck nanny with the Guard)
//	WithdrawApplication     1 BatchGetItem (application, actor) + 1 TransactWriteItems (application; the Guard)
//	ListApplicationsForJob  1 Query on the first page (+ the actor's GetItem beside it); later pages + 1 GetItem of
//	                        the job beside it
//	ListJobsAppliedTo       as ListJobsByParent
//	BookNanny               1 BatchGetItem (job, application, parent) + 1 TransactWriteItems (Update job, Update
//	                        application, Update parent openJobs-1 with the Guard, ConditionCheck applicant,
//	                        Put the outbox item); a retry of a booking that succeeded: the BatchGetItem only
//	DeclinePending          1 Query per 1 MB of the job's partition + 1 TransactWriteItems per 100 PENDING
//	                        applications (4 in flight): a decline writes only the application, never the
//	                        nanny's item
//	ClearDeclines           1 DeleteItem of the outbox item (after the job's notifications are published)
//	DueDeclines             1 Query per outbox shard (4), concurrently
//	DueErasures             1 Query per erasure shard (4), concurrently
//	ClearErasure            1 DeleteItem of the erasure item
//	CreateReview            1 TransactWriteItems (Put marker, Put review, ConditionCheck job, Update reviewee
//	                        ADD ratingCount 1 ratingSum r, ConditionCheck reviewer with the Guard)
//	ListReviews             1 Query
//	ListOpenJobsInRanges    1 Query per range (and per 1 MB of it), concurrently (+ the actor's GetItem beside
//	                        them); a 10 km ListJobsNear is 1–6 ranges (mostly 2–4), 50 km about 24 at the equator
//	                        and at most babysitter.MaxGeoRanges (36) anywhere, the poles included
//	ReindexNearby           1 Query a page of the OPEN jobs + 1 UpdateItem per job whose byCell keys moved
//
// "Beside" means concurrently: the page still takes one round trip. A
// failed condition costs no extra request: its error comes from the item
// the failure returned. The Store retries on its own (retry: at most
// maxAttempts, jittered backoff, then ErrConflict "still contended") only
// a transaction canceled by a concurrent transaction, a read-decide-write
// whose write found its items changed since the read, and a
// BatchGetItem's unprocessed keys; throttling and 5xx are the SDK
// retryer's job (configure it on the client, e.g.
// retry.AddWithMaxAttempts).
//
// # Idempotency
//
// Every TransactWriteItems carries a ClientRequestToken. The SDK fills one
// in itself when none is given (its idempotency-token middleware runs
// before the retry loop), so the SDK's retries of one call share a token
// and a transaction that committed before its response was lost is not
// applied twice; Store sets a fresh token per call explicitly. An
// UpdateItem has no token: when the SDK retries one whose first attempt did
// commit, its condition fails, and UpdateUser, UpdateJob and TransitionJob
// recognize their own write in the item the failure returns (same version,
// updatedOn and content) and succeed — so an exact repeat of an update that
// succeeded returns nil, not ErrConflict. BookNanny recognizes a booking
// that already succeeded (CheckBooking's done). TestFaults injects failures
// before sending and after the server committed, and checks each write
// happens once (CreateReview's rating aggregate, the declines and the
// tombstone included).
//
// # Items
//
// Stored attribute names are a contract with every table already
// deployed, separate from the API's JSON names. Each item type has its own
// unexported struct in items.go (userItem, jobItem, applicationItem,
// reviewItem, emailItem, applicantItem, reviewMarkerItem, tombstoneItem;
// outboxItem and erasureItem beside their code)
// whose dynamodbav tags are the only place its attribute names are defined;
// the key attributes are in keys.go. The root package's json tags are
// never read: renaming a field of the HTTP or GraphQL API renames no
// attribute (TestJSONNamesNotStored renames them all in a copy of the
// module and checks the goldens still hold). The names were copied once
// from the JSON names items were stored under before, so no item already
// in a table changed. testdata/items/<type>.golden.json pins each item
// type's stored shape — names, types and values (TestGoldenItems; go test
// -run TestGoldenItems -update rewrites them): a diff there is a change of
// the stored format, which needs a new schema version.
//
// Values: times as RFC 3339 strings with nanoseconds, dates as
// "2006-01-02", times of day as "15:04", money as a map {amount: N (minor
// units), currency: S} — except User.Rating, stored as the top-level
// numbers ratingCount and ratingSum (not a map "rating"), so that
// CreateReview's ADD needs neither an existing attribute nor a nested path.
//
// Every item carries its schema version, the number attribute v:
//
//	0  (no attribute v) items written before items had a version. Same
//	   attributes as 1. A user item from before ratingCount/ratingSum may
//	   hold the rating as a map rating {count, sum} and the retired counter
//	   pendingApplications: both read.
//	1  version 0 plus v = 1. A build from before versions reads these
//	   items as it read its own.
//	2  version 1 plus, on user items, the account's uploads (the map
//	   uploads, uploadsVersion), the verification record and the
//	   identity the account is bound to (subject), and the erasure item.
//
// An item is written at the oldest version that holds its attributes: a
// user item with neither uploads, nor a verification record, nor a
// subject, and every item of the other types, are version 1 exactly as
// before; a user item is version 2 from its creation when its creator had
// a subject (Actor.Subject), else from its first upload or verification
// (the UpdateItems that write them SET v too), and erasure items are
// version 2. Why a new
// version, although a build of version 1 would decode these items (the
// decoder ignores attributes it does not know): it would mishandle them.
// Its DeleteUser would delete the account and leave its documents in the
// bucket with nothing pointing at them, its status change would make an
// account VERIFIED on no document and leave a stale verification record,
// and its Guard would let any identity of the account's username act
// through it — the takeover the subject prevents.
// Refusing the item (ErrNewerSchema) is the safe failure. So during a
// rolling deploy an old build keeps serving every account that has never
// uploaded anything and is bound to no subject, and fails — writing
// nothing — on the others;
// deploying first with Options.Blobs unset (no upload can happen, and
// VERIFIED needs Options.VerifyWithoutDocument meanwhile) and setting it
// once no old build runs avoids even that: the two-step rule below,
// with a switch instead of a second build.
//
// Decoding reads every version up to the current one; an item of a newer
// version is a *DecodeError wrapping ErrNewerSchema, so a build never
// misreads an item written in a format it does not know. testdata/items/v0
// holds items captured from the encoders of earlier commits, and each is
// decoded (TestDecodeStoredItems); TestVersion2 pins what version 2 adds.
// An UpdateItem leaves v as it is — it writes attributes that mean the
// same in every version it can meet — except those that write version 2's
// attributes, which set v = 2.
//
// Changing the format: add version N+1 to decodeItem's switch and to the
// goldens, and ship it in two deploys — first a build that reads N+1 but
// still writes N, then, once no older build runs, one that writes N+1. The
// attributes that condition expressions name (username, type, status,
// jobStatus, jobApplicationStatus, version, email, acceptedNanny,
// openJobs, ratingCount, ratingSum, uploadsVersion, uploads.<id>.state
// and .kind, the keys) are also read by every older build's conditions on
// the server, not only by its decoding: while such a build runs, a new
// version must keep them, with their meaning.
//
// An item that does not decode is a *DecodeError, never a panic.
package dynamodb
