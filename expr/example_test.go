package expr_test

import (
	"fmt"

	"github.com/procq/procq/expr"
)

func ExampleParse() {
	p, err := expr.Parse("zone.[1-20]_[mysql, redis]*")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"zone.7_mysql_3306", "zone.20_redis", "zone.07_mysql", "zone.21_redis"} {
		fmt.Println(s, p.Match(s))
	}
	fmt.Printf("prefix %q\n", p.Prefix())

	_, err = expr.Parse("[12")
	fmt.Println(err)
	// Output:
	// zone.7_mysql_3306 true
	// zone.20_redis true
	// zone.07_mysql false
	// zone.21_redis false
	// prefix "zone."
	// 枚举表达式缺少`]`: [12
}

func ExamplePattern_IntRanges() {
	p, _ := expr.Parse("[10-19, 30-39]")
	fmt.Println(p.IntRanges())
	// Output:
	// [{10 19} {30 39}] true
}

func ExampleParseSlice() {
	sl, ok, err := expr.ParseSlice("[-3:]")
	fmt.Println(ok, err)
	fmt.Println(sl.Bounds(10))
	// Output:
	// true <nil>
	// 7 10
}
