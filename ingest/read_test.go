package ingest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSplitPartitions checks that splitPartitions puts every partition, with
// its start offset, in exactly one of at most n groups, none of them empty.
func TestSplitPartitions(t *testing.T) {
	for _, parts := range []int{0, 1, 2, 3, 7, 16} {
		for _, n := range []int{1, 2, 3, 4, 8, 20} {
			t.Run(fmt.Sprintf("partitions=%d/n=%d", parts, n), func(t *testing.T) {
				// Two topics, so groups can hold partitions of both.
				consume := map[string]map[int32]kgo.Offset{}
				for i := range parts {
					topic := []string{"a", "b"}[i%2]
					if consume[topic] == nil {
						consume[topic] = map[int32]kgo.Offset{}
					}
					consume[topic][int32(i)] = kgo.NewOffset().At(int64(100 + i))
				}
				groups := splitPartitions(consume, n)
				if len(groups) > n {
					t.Fatalf("%d groups, want at most %d", len(groups), n)
				}
				if want := min(n, parts); len(groups) != want {
					t.Errorf("%d groups, want %d (all the partitions can be dealt)", len(groups), want)
				}
				seen := map[partitionID]int{}
				for gi, g := range groups {
					size := 0
					for topic, ps := range g {
						for p, off := range ps {
							size++
							id := partitionID{topic, p}
							seen[id]++
							if want, ok := consume[topic][p]; !ok {
								t.Errorf("group %d holds %s, which is not to be consumed", gi, id)
							} else if off != want {
								t.Errorf("group %d starts %s at %v, want %v", gi, id, off, want)
							}
						}
					}
					if size == 0 {
						t.Errorf("group %d is empty", gi)
					}
				}
				for topic, ps := range consume {
					for p := range ps {
						if id := (partitionID{topic, p}); seen[id] != 1 {
							t.Errorf("%s is in %d groups, want 1", id, seen[id])
						}
					}
				}
			})
		}
	}
}
