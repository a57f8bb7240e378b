// Package s3 implements storage.Store on Amazon S3 and S3-compatible object
// stores (versitygw, MinIO, Ceph RGW, ...).
//
// A Store works inside one bucket under an optional key prefix: the store
// key "a/b" is the S3 object Prefix + "/" + "a/b". The storage.Store
// contract maps onto S3 as follows.
//
//   - Atomic visibility. Put streams the reader through the SDK transfer
//     manager: one PutObject below Options.PartSize bytes, a multipart upload
//     above it. S3 publishes an object only when PutObject or
//     CompleteMultipartUpload succeeds, so readers never see a prefix. If the
//     reader fails, the context is cancelled or a part fails, the multipart
//     upload is aborted (with a fresh context, so cancellation does not
//     prevent it) and Put returns the cause; the previous object, if any, is
//     untouched. Parts of an upload whose abort itself failed, or of a
//     process killed mid-upload, are invisible but cost storage until a
//     bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them:
//     configure one. As with any remote store, a Put whose response is lost
//     may report an error although the object was published.
//   - Create if absent. PutIfAbsent is a single PutObject with
//     "If-None-Match: *". S3 lets exactly one of concurrent writers win; the
//     others get 412 PreconditionFailed, reported as storage.ErrExists. A
//     409 ConditionalRequestConflict (the write raced another write or a
//     delete of the key) is retried, and reported as storage.ErrExists only
//     if it outlives the retries.
//   - Listing. List pages through ListObjectsV2 (Options.ListPageSize keys
//     per request) and calls fn as pages arrive, in the ascending byte order
//     in which S3 and versitygw list. A server that lists out of order makes
//     List fail with storage.ErrPermanent instead of breaking that promise.
//     Objects whose names are not valid storage keys, such as the "dir/"
//     markers some S3 consoles create, are not objects of the store and are
//     skipped.
//   - Ranged reads. GetRange sends "Range: bytes=off-end"; a range starting
//     at or past the end of the object (416 InvalidRange) yields an empty
//     reader, not an error.
//   - Copy. CopyObject copies on the server, replacing the destination
//     atomically. A single CopyObject is limited to 5 GiB; Copy of a larger
//     source fails with an error matching storage.ErrPermanent that names the
//     key and its size (binlake's files are far smaller; split data instead).
//   - Delete is DeleteObject, which S3 already treats as idempotent.
//
// Retries. Every request goes through the SDK's standard retryer with
// Options.MaxAttempts attempts and exponential backoff with full jitter,
// capped at Options.MaxBackoff. Throttling (503 SlowDown, 429), 5xx
// responses, request timeouts, connection errors and conditional-write
// conflicts (409 ConditionalRequestConflict) are retried. The
// SDK's client-side retry quota is disabled: a batch job facing a
// throttling store should slow down, not give up early.
//
// Errors. Every error names the operation and the S3 object, as in
// "s3 put bucket/prefix/key: ...", and matches one storage class where one
// applies:
//
//   - storage.ErrNotFound: NoSuchKey, NotFound, any other 404.
//   - storage.ErrExists: 412 PreconditionFailed, and 409
//     ConditionalRequestConflict once retries are exhausted.
//   - storage.ErrPermanent: AccessDenied, InvalidAccessKeyId,
//     SignatureDoesNotMatch, NoSuchBucket, InvalidBucketName, any other 4xx
//     that is not throttling or a timeout, invalid keys, and copies over
//     5 GiB.
//
// Anything else (5xx, throttling, network errors that outlived the retries,
// context cancellation) is left unclassified, that is transient. HeadObject
// responses carry no error body, so a bare 404 is all Stat sees of a missing
// bucket (and, on versitygw, of an unknown access key): Stat reports
// storage.ErrNotFound there, while every other operation reports
// storage.ErrPermanent.
//
// versitygw's posix backend stores keys as files, so it cannot hold both
// "a" and "a/b"; the second Put fails with a 409 (ObjectParentIsFile or
// ExistingObjectIsDirectory), reported as storage.ErrPermanent.
//
// A Store is safe for concurrent use. A Put holds up to about six parts
// (Options.PartSize each) in memory while it uploads them in parallel.
package s3
