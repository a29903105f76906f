package engine

import (
	"context"
	"testing"
)

func BenchmarkZZSearch(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("ip terms %d cloud terms %d", e.ix.InnerIP.Len(), e.ix.CloudName.Len())
	for _, body := range []string{
		`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["10.0.1"],"page":1,"pagesize":50}`,
		`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["10."],"page":1,"pagesize":50}`,
		`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["1"],"page":1,"pagesize":50}`,
	} {
		b.Run("", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Do(context.Background(), []byte(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
