package synth_test

import (
	"fmt"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

func ExampleGenerate() {
	perBiz := map[int64]int{}
	valid := true
	err := synth.Generate(synth.Options{Processes: 10000, Seed: 1}, func(r *record.Record) error {
		perBiz[r.BizID]++
		valid = valid && r.Expression == r.DerivedExpression()
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("large business:", perBiz[synth.LargeBizID])
	fmt.Println("businesses:", len(perBiz))
	fmt.Println("expressions derived:", valid)
	// Output:
	// large business: 8500
	// businesses: 8
	// expressions derived: true
}

func ExampleRequests() {
	reqs, err := synth.Requests(synth.Options{Processes: 1000, Seed: 1}, 3, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(reqs), "requests")
	// Output:
	// 3 requests
}
