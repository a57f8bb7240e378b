package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/binlake/binlake/storage"
)

// Defaults and limits for Options.
const (
	// DefaultMaxAttempts is the default number of attempts per request.
	DefaultMaxAttempts = 10
	// DefaultMaxBackoff is the default cap on the delay between attempts.
	DefaultMaxBackoff = 20 * time.Second
	// DefaultPartSize is the default multipart part size.
	DefaultPartSize = 16 << 20
	// MinPartSize is the smallest part size S3 accepts.
	MinPartSize = 5 << 20
	// DefaultListPageSize is the default and largest number of keys per
	// ListObjectsV2 page.
	DefaultListPageSize = 1000
	// DefaultRegion is the region used when neither Options nor the AWS
	// configuration name one.
	DefaultRegion = "us-east-1"
	// MaxCopySize is the largest object a single CopyObject can copy.
	MaxCopySize = 5 << 30
)

// abortTimeout bounds the clean-up of a failed multipart upload, which runs
// on a fresh context so that cancelling the Put does not prevent it.
const abortTimeout = time.Minute

// Options configures a Store. Zero values mean the defaults.
type Options struct {
	// Bucket is the S3 bucket; required.
	Bucket string
	// Prefix is prepended to every key, joined by "/". Leading and trailing
	// slashes are ignored; empty means the root of the bucket.
	Prefix string
	// Endpoint is the base URL of an S3-compatible service, such as
	// "http://127.0.0.1:7070"; empty means AWS.
	Endpoint string
	// Region is the signing region; empty means the one from the AWS
	// configuration, else DefaultRegion.
	Region string
	// PathStyle addresses buckets as endpoint/bucket instead of
	// bucket.endpoint, as most S3-compatible services need.
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials. Leave both
	// empty to use the standard AWS credential chain (environment, shared
	// files, instance or pod roles).
	AccessKeyID     string
	SecretAccessKey string
	// MaxAttempts is the number of attempts per request, the first included
	// (default DefaultMaxAttempts).
	MaxAttempts int
	// MaxBackoff caps the delay between attempts (default DefaultMaxBackoff).
	MaxBackoff time.Duration
	// PartSize is the multipart part size and the size from which Put uses
	// a multipart upload (default DefaultPartSize, at least MinPartSize).
	PartSize int64
	// ListPageSize is the number of keys per ListObjectsV2 request (default
	// and at most DefaultListPageSize).
	ListPageSize int32
}

// Store is a storage.Store backed by an S3 bucket. It is safe for
// concurrent use.
type Store struct {
	client   *awss3.Client
	uploader *transfermanager.Client
	bucket   string
	prefix   string // without slashes at either end; may be empty
	pageSize int32
}

var _ storage.Store = (*Store)(nil)

// New returns a Store for o.Bucket. It loads the AWS configuration (for
// credentials and region when o does not set them) but sends no request,
// so a wrong bucket or bad credentials show up on the first operation.
func New(ctx context.Context, o Options) (*Store, error) {
	if err := o.setDefaults(); err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	loads := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(o.MaxAttempts, o.MaxBackoff) }),
	}
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		loads = append(loads, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("s3 store: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	client := awss3.NewFromConfig(cfg, func(so *awss3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// Ranged and multipart reads carry no checksum to validate; do
		// not log that on every Get.
		so.DisableLogOutputChecksumValidationSkipped = true
	})
	uploader := transfermanager.New(client, func(to *transfermanager.Options) {
		to.PartSizeBytes = o.PartSize
		to.MultipartUploadThreshold = o.PartSize
		to.FailTimeout = abortTimeout
	})
	return &Store{
		client:   client,
		uploader: uploader,
		bucket:   o.Bucket,
		prefix:   o.Prefix,
		pageSize: o.ListPageSize,
	}, nil
}

// setDefaults validates o and fills in its zero fields.
func (o *Options) setDefaults() error {
	if o.Bucket == "" {
		return fmt.Errorf("no bucket: %w", storage.ErrPermanent)
	}
	o.Prefix = strings.Trim(o.Prefix, "/")
	if o.Prefix != "" {
		if err := storage.CheckKey(o.Prefix); err != nil {
			return fmt.Errorf("prefix: %w", err)
		}
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return fmt.Errorf("set both AccessKeyID and SecretAccessKey, or neither: %w", storage.ErrPermanent)
	}
	switch {
	case o.MaxAttempts == 0:
		o.MaxAttempts = DefaultMaxAttempts
	case o.MaxAttempts < 0:
		return fmt.Errorf("MaxAttempts %d is negative: %w", o.MaxAttempts, storage.ErrPermanent)
	}
	switch {
	case o.MaxBackoff == 0:
		o.MaxBackoff = DefaultMaxBackoff
	case o.MaxBackoff < 0:
		return fmt.Errorf("MaxBackoff %v is negative: %w", o.MaxBackoff, storage.ErrPermanent)
	}
	switch {
	case o.PartSize == 0:
		o.PartSize = DefaultPartSize
	case o.PartSize < MinPartSize:
		return fmt.Errorf("PartSize %d is below the S3 minimum %d: %w", o.PartSize, MinPartSize, storage.ErrPermanent)
	}
	switch {
	case o.ListPageSize == 0:
		o.ListPageSize = DefaultListPageSize
	case o.ListPageSize < 0 || o.ListPageSize > DefaultListPageSize:
		return fmt.Errorf("ListPageSize %d is not in 1..%d: %w", o.ListPageSize, DefaultListPageSize, storage.ErrPermanent)
	}
	return nil
}

// newRetryer returns the SDK's standard retryer with full-jitter exponential
// backoff and no client-side retry quota. Besides the SDK's defaults it
// retries 429 responses and ConditionalRequestConflict, the 409 that S3
// answers a conditional write racing another write or a delete of the same
// key, and which S3 documents as worth retrying: the retry either wins or
// gets a definite 412.
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = maxBackoff
		so.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
		so.RateLimiter = ratelimit.None
		so.Retryables = append(so.Retryables,
			retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{http.StatusTooManyRequests: {}}},
			retry.RetryableErrorCode{Codes: map[string]struct{}{"ConditionalRequestConflict": {}}},
		)
	})
}

// objectKey checks a store key and returns the S3 object key for it.
func (s *Store) objectKey(key string) (string, error) {
	if err := storage.CheckKey(key); err != nil {
		return "", err
	}
	if s.prefix == "" {
		return key, nil
	}
	return s.prefix + "/" + key, nil
}

// Put implements storage.Store. It uploads r in one request below
// Options.PartSize bytes and as a multipart upload above; a failed multipart
// upload is aborted.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	k, err := s.objectKey(key)
	if err != nil {
		return s.wrap("put", key, err)
	}
	_, err = s.uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
		Body:   r,
	})
	var mpu transfermanager.MultipartUploadError
	if errors.As(err, &mpu) {
		// The transfer manager has tried to abort already, but it drops
		// the error of a failed abort. Aborting again is cheap and makes
		// sure no parts are left behind when the first abort failed.
		err = errors.Join(err, s.abort(k, mpu.UploadID()))
	}
	return s.wrap("put", k, err)
}

// abort aborts a multipart upload on a fresh context. An upload that is
// already gone is not an error.
func (s *Store) abort(k, uploadID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(k),
		UploadId: aws.String(uploadID),
	})
	if err != nil && !errors.Is(classify(err), storage.ErrNotFound) {
		return fmt.Errorf("abort multipart upload %s: %w", uploadID, err)
	}
	return nil
}

// PutIfAbsent implements storage.Store with a conditional PutObject
// ("If-None-Match: *").
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	k, err := s.objectKey(key)
	if err != nil {
		return s.wrap("put-if-absent", key, err)
	}
	_, err = s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(k),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		IfNoneMatch:   aws.String("*"),
	})
	return s.wrap("put-if-absent", k, err)
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil {
		return nil, s.wrap("get", k, err)
	}
	return out.Body, nil
}

// GetRange implements storage.Store with a ranged GetObject. A range that
// starts at or past the end of the object yields an empty reader.
func (s *Store) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	if off < 0 {
		return nil, s.wrap("get", k, fmt.Errorf("negative offset %d: %w", off, storage.ErrPermanent))
	}
	if length == 0 {
		// HTTP cannot express an empty range; still report a missing key.
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	rng := "bytes=" + strconv.FormatInt(off, 10) + "-"
	if length > 0 && length <= math.MaxInt64-off {
		rng += strconv.FormatInt(off+length-1, 10)
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
		Range:  aws.String(rng),
	})
	if isInvalidRange(err) {
		// The object exists (else NoSuchKey) but ends at or before off.
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, s.wrap("get", k, err)
	}
	return out.Body, nil
}

// Stat implements storage.Store with HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (storage.Object, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return storage.Object{}, s.wrap("stat", key, err)
	}
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil {
		return storage.Object{}, s.wrap("stat", k, err)
	}
	return storage.Object{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// List implements storage.Store. It streams the listing page by page and
// fails with storage.ErrPermanent, rather than break the ordering promise, if
// the server lists keys out of ascending byte order.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	return s.ListAfter(ctx, prefix, "", fn)
}

// ListAfter implements storage.Store: List, with the server starting after
// after (StartAfter).
func (s *Store) ListAfter(ctx context.Context, prefix, after string, fn func(storage.Object) error) error {
	if err := storage.CheckPrefix(prefix); err != nil {
		return s.wrap("list", prefix, err)
	}
	root := ""
	if s.prefix != "" {
		root = s.prefix + "/"
	}
	in := &awss3.ListObjectsV2Input{
		Bucket:  aws.String(s.bucket),
		Prefix:  aws.String(root + prefix),
		MaxKeys: aws.Int32(s.pageSize),
	}
	if after != "" {
		in.StartAfter = aws.String(root + after)
	}
	p := awss3.NewListObjectsV2Paginator(s.client, in)
	var last string // CheckKey rejects "", so every key sorts after it
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list", root+prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), root)
			if storage.CheckKey(key) != nil || key <= after {
				continue // not a store object (a "dir/" marker), or a server that ignores StartAfter
			}
			if key <= last {
				return s.wrap("list", root+prefix, fmt.Errorf("server listed %q after %q, not in ascending byte order: %w",
					key, last, storage.ErrPermanent))
			}
			last = key
			err := fn(storage.Object{
				Key:     key,
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements storage.Store with DeleteObject.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return s.wrap("delete", key, err)
	}
	_, err = s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(k),
	})
	if err != nil && errors.Is(classify(err), storage.ErrNotFound) {
		return nil // S3 answers 204 for absent keys; some gateways 404
	}
	return s.wrap("delete", k, err)
}

// Copy implements storage.Store with CopyObject. Sources larger than
// MaxCopySize fail with an error matching storage.ErrPermanent.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	sk, err := s.objectKey(src)
	if err != nil {
		return s.wrap("copy", src, err)
	}
	dk, err := s.objectKey(dst)
	if err != nil {
		return s.wrap("copy", dst, err)
	}
	o, err := s.Stat(ctx, src)
	if err != nil {
		return fmt.Errorf("s3 copy to %s/%s: %w", s.bucket, dk, err)
	}
	if o.Size > MaxCopySize {
		return s.wrap("copy", sk, fmt.Errorf("object of %d bytes exceeds the %d-byte limit of CopyObject: %w",
			o.Size, int64(MaxCopySize), storage.ErrPermanent))
	}
	_, err = s.client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket:     aws.String(s.bucket),
		Key:        aws.String(dk),
		CopySource: aws.String(copySource(s.bucket, sk)),
	})
	if err != nil {
		return s.wrap("copy", sk+" to "+s.bucket+"/"+dk, err)
	}
	return nil
}

// copySource returns the URL-encoded "bucket/key" that CopyObject expects.
func copySource(bucket, key string) string {
	segs := strings.Split(bucket+"/"+key, "/")
	for i, seg := range segs {
		// QueryEscape leaves only unreserved characters and turns spaces
		// into "+"; a literal "+" has become "%2B" by then.
		segs[i] = strings.ReplaceAll(url.QueryEscape(seg), "+", "%20")
	}
	return strings.Join(segs, "/")
}
