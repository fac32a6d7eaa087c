package dynamodb

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// Key attribute names. The index key attributes are generic (GSI1PK, not
// "parentUsername") so one index serves several access patterns.
const (
	attrPK     = "PK"
	attrSK     = "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"
	attrGSI2PK = "GSI2PK"
	attrGSI2SK = "GSI2SK"
	attrGSI3PK = "GSI3PK"
	attrGSI3SK = "GSI3SK"
)

// Index names.
const (
	// IndexByUser is GSI1 (GSI1PK, GSI1SK): a user's item, jobs and
	// applications.
	IndexByUser = "byUser"
	// IndexByStatus is GSI2 (GSI2PK, GSI2SK): jobs by status, users by type.
	IndexByStatus = "byStatus"
	// IndexByCell is GSI3 (GSI3PK, GSI3SK), sparse: the OPEN jobs by
	// geohash cell, for jobs near a point. Only OPEN jobs carry its keys.
	IndexByCell = "byCell"
)

// Key prefixes. '#' cannot occur in usernames (babysitter.ValidUsername)
// nor in IDs, so a prefix and its value never run into each other.
const (
	prefixUser        = "USER#"
	prefixUserEmail   = "USEREMAIL#"
	prefixUserType    = "USERTYPE#"
	prefixJob         = "JOB#"
	prefixJobStatus   = "JOBSTATUS#"
	prefixApplication = "APPLICATION#"
	prefixApplicant   = "APPLICANT#"
	prefixReview      = "REVIEW#"
	prefixCell        = "CELL#"
	// skTombstone is the sort key of a username's tombstone, in the
	// partition USER#<username>: no Query range of that partition
	// (reviews: begins_with "REVIEW#") holds it, and it has no index keys.
	skTombstone = "TOMBSTONE"
)

// geoKeySep separates a job's precision-9 geohash from its ID in GSI3SK,
// and geoKeyEnd closes a range: '#' sorts below every geohash character and
// '~' above them, so "<hash>#<id>" lies in [From, To+"~"] exactly when
// From <= hash <= To.
const (
	geoKeySep = "#"
	geoKeyEnd = "~"
)

// Key values. Each is one concatenation; they are on every request's path.

func userKey(username string) string             { return prefixUser + username }
func emailKey(email string) string               { return prefixUserEmail + email }
func userTypeKey(t babysitter.UserType) string   { return prefixUserType + string(t) }
func jobKey(id string) string                    { return prefixJob + id }
func jobStatusKey(s babysitter.JobStatus) string { return prefixJobStatus + string(s) }
func applicationKey(id string) string            { return prefixApplication + id }
func applicantKey(nanny string) string           { return prefixApplicant + nanny }
func reviewKey(id string) string                 { return prefixReview + id }
func cellKey(cell string) string                 { return prefixCell + cell }

// tableKey is the primary key of an item.
func tableKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// userItemKey, emailItemKey, jobItemKey, applicationItemKey and
// applicantItemKey are the primary keys of the five item types.
func userItemKey(username string) map[string]types.AttributeValue {
	k := userKey(username)
	return tableKey(k, k)
}

func emailItemKey(email string) map[string]types.AttributeValue {
	k := emailKey(email)
	return tableKey(k, k)
}

func jobItemKey(id string) map[string]types.AttributeValue {
	k := jobKey(id)
	return tableKey(k, k)
}

func applicationItemKey(jobID, id string) map[string]types.AttributeValue {
	return tableKey(jobKey(jobID), applicationKey(id))
}

func applicantItemKey(jobID, nanny string) map[string]types.AttributeValue {
	return tableKey(jobKey(jobID), applicantKey(nanny))
}

// tombstoneItemKey is the key of a deleted username's tombstone.
func tombstoneItemKey(username string) map[string]types.AttributeValue {
	return tableKey(userKey(username), skTombstone)
}

// reviewItemKey is a review's key, in its reviewee's partition.
func reviewItemKey(reviewee, id string) map[string]types.AttributeValue {
	return tableKey(userKey(reviewee), reviewKey(id))
}

// reviewMarkerKey is the key of the marker that makes "one review per job
// per direction" a put-if-absent.
func reviewMarkerKey(jobID string, d babysitter.ReviewDirection) map[string]types.AttributeValue {
	return tableKey(jobKey(jobID), reviewKey(string(d)))
}

// userKeys, jobKeys and applicationKeys are every key attribute of an item,
// table and index keys, as strings.
func userKeys(username string, t babysitter.UserType) map[string]string {
	k := userKey(username)
	return map[string]string{attrPK: k, attrSK: k, attrGSI1PK: k, attrGSI1SK: k, attrGSI2PK: userTypeKey(t), attrGSI2SK: k}
}

func jobKeys(id, parent string, status babysitter.JobStatus) map[string]string {
	k := jobKey(id)
	return map[string]string{attrPK: k, attrSK: k, attrGSI1PK: userKey(parent), attrGSI1SK: k, attrGSI2PK: jobStatusKey(status), attrGSI2SK: k}
}

// geoKeys are the byCell index keys of an OPEN job at (lat, lon): its
// partition (babysitter.GeoCell: the precision-4 cell, or toward the poles
// the first cell of its run), and the precision-9 geohash followed by the
// job's ID.
func geoKeys(id string, lat, lon float64) map[string]string {
	return map[string]string{
		attrGSI3PK: cellKey(babysitter.GeoCell(lat, lon)),
		attrGSI3SK: babysitter.Geohash(lat, lon, babysitter.GeoKeyPrecision) + geoKeySep + id,
	}
}

func applicationKeys(jobID, id, nanny string) map[string]string {
	sk := applicationKey(id)
	return map[string]string{attrPK: jobKey(jobID), attrSK: sk, attrGSI1PK: userKey(nanny), attrGSI1SK: sk}
}
