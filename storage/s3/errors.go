package s3

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/binlake/binlake/storage"
)

// permanentCodes are S3 error codes that retrying cannot fix, whatever their
// HTTP status.
var permanentCodes = map[string]bool{
	"AccessDenied":          true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"NoSuchBucket":          true,
	"InvalidBucketName":     true,
	// versitygw's answer (with status 404) to an unknown access key.
	"XAdminUserNotFound": true,
}

// wrap names the operation and the object in err and adds the storage error
// class, if any. It returns nil for a nil err.
func (s *Store) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if class := classify(err); class != nil && !errors.Is(err, class) {
		return fmt.Errorf("s3 %s %s/%s: %w: %w", op, s.bucket, key, class, err)
	}
	return fmt.Errorf("s3 %s %s/%s: %w", op, s.bucket, key, err)
}

// classify returns the storage error class of an SDK error: ErrNotFound,
// ErrExists, ErrPermanent, or nil for transient and unknown errors.
func classify(err error) error {
	var code string
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var status int
	var respErr interface{ HTTPStatusCode() int }
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	_, throttle := retry.DefaultThrottleErrorCodes[code]
	_, timeout := retry.DefaultRetryableErrorCodes[code]
	switch {
	case permanentCodes[code]:
		return storage.ErrPermanent
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		return storage.ErrNotFound
	case code == "PreconditionFailed" || code == "ConditionalRequestConflict" || status == http.StatusPreconditionFailed:
		return storage.ErrExists
	case throttle || timeout || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
		return nil
	case status >= 400 && status < 500:
		return storage.ErrPermanent
	}
	return nil
}

// isInvalidRange reports whether err is S3's answer to a range that starts
// at or past the end of the object: 416 InvalidRange.
func isInvalidRange(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRange" {
		return true
	}
	var respErr interface{ HTTPStatusCode() int }
	return errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable
}
