// Package storage defines the object store that holds a binlake warehouse.
//
// A Store maps slash-separated keys to immutable byte objects. Every
// implementation (storage/local, storage/mem, storage/s3) obeys the same
// contract, checked by storage/storagetest:
//
//   - Put makes an object visible atomically: a reader sees the whole new
//     object, the whole previous one, or nothing; never a prefix. A Put that
//     fails or is interrupted (including by kill -9) leaves no visible object
//     and does not disturb the previous one.
//   - PutIfAbsent creates an object only if the key does not exist. Under any
//     number of concurrent callers exactly one succeeds; the others get an
//     error that matches ErrExists. Commit records, manifests and ready
//     markers are written with it.
//   - List returns keys in ascending byte order, recursively, however many
//     there are; ListAfter the same from a given key on.
//   - Delete of an absent key succeeds: deletes are idempotent.
//   - No key is also a directory of other keys ("a" and "a/b"): local disk
//     and S3 gateways that store keys as files cannot hold both.
//
// A failed call may still have taken effect: the request reached the store
// and only its answer was lost. So a failed Put may have published the
// object, and PutIfAbsent may report ErrExists to the writer that actually
// won (its retry found its own object). Callers that must know whether they
// won write content that identifies them (a run ID) and compare it on
// ErrExists.
//
// Errors are classified so callers can decide what to do: errors.Is(err,
// ErrNotFound), errors.Is(err, ErrExists) and errors.Is(err, ErrPermanent)
// (retrying will not help: bad credentials, a missing bucket, an invalid
// key). Implementations retry transient failures (throttling, 5xx) with
// backoff themselves; an error that is none of the three is transient and
// survived those retries.
//
// Which implementation backs a warehouse is decided by whoever wires the
// program (cmd/binlake), never by this package.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Error classes. Implementations wrap them, so test with errors.Is.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrExists: PutIfAbsent lost, the key already exists.
	ErrExists = errors.New("object already exists")
	// ErrPermanent: the request cannot succeed by retrying it.
	ErrPermanent = errors.New("permanent storage error")
)

// Object describes a stored object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is the warehouse's object store. Implementations are safe for
// concurrent use.
type Store interface {
	// Put stores the bytes read from r under key, replacing any previous
	// object, with atomic visibility (see the package doc). If r fails, Put
	// returns that error and the key is left as it was.
	Put(ctx context.Context, key string, r io.Reader) error
	// PutIfAbsent stores data under key only if key does not exist yet;
	// otherwise it returns an error matching ErrExists and changes nothing.
	PutIfAbsent(ctx context.Context, key string, data []byte) error
	// Get opens the object for reading. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetRange reads length bytes starting at off (length < 0: to the end).
	// A range past the end of the object is cut short, not an error.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	// Stat describes the object, or returns an error matching ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// List calls fn for every object whose key starts with prefix, in
	// ascending key order. It stops at the first error fn returns and
	// returns it.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// ListAfter is List over the keys that sort after after (all of
	// them when after is empty). A listing that starts at a known key, or
	// skips what it has seen, costs only what it reads: S3 starts the
	// listing there, local disk skips the directories before it.
	ListAfter(ctx context.Context, prefix, after string, fn func(Object) error) error
	// Delete removes the object. Deleting an absent key succeeds.
	Delete(ctx context.Context, key string) error
	// Copy makes dst a copy of src on the server side (no bytes travel
	// through binlake where the store allows it), replacing dst atomically.
	Copy(ctx context.Context, src, dst string) error
}

// CheckKey reports whether key is a valid object key: non-empty,
// slash-separated, relative, with no empty, "." or ".." segment and no
// backslash or NUL. Implementations call it on every key they are given.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("invalid key %q: empty: %w", key, ErrPermanent)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("invalid key %q: contains a backslash or NUL: %w", key, ErrPermanent)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid key %q: empty, \".\" or \"..\" segment: %w", key, ErrPermanent)
		}
	}
	return nil
}

// CheckPrefix reports whether prefix is valid for List: empty, or a key
// prefix whose complete segments are valid (a trailing slash is allowed).
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return CheckKey(strings.TrimSuffix(prefix, "/"))
}

// ReadAll reads a whole object.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

// Exists reports whether key exists.
func Exists(ctx context.Context, s Store, key string) (bool, error) {
	_, err := s.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
