package match

import (
	"cmp"
	"slices"
	"strings"

	"github.com/procq/procq/api"
	"github.com/procq/procq/record"
)

// SortRow holds the values a result is ordered by.
type SortRow struct {
	ID, SetID, ModuleID, PID int64
	ProcessName              string
	// IP is the bk_host_innerip sort key, set when ordered by it.
	IP IPKey
}

// NeedsIP reports whether keys order by bk_host_innerip.
func NeedsIP(keys []api.OrderKey) bool {
	return slices.ContainsFunc(keys, func(k api.OrderKey) bool { return k.Field == record.FieldInnerIP })
}

// RowOf returns the sort values of r; withIP parses the address.
func RowOf(r *record.Record, withIP bool) SortRow {
	row := SortRow{ID: r.ID, SetID: r.SetID, ModuleID: r.ModuleID, PID: r.ProcessID, ProcessName: r.ProcessName}
	if withIP {
		row.IP = IPKeyOf(r.InnerIP)
	}
	return row
}

// Compare orders two rows by the request's keys, ties by ascending
// bk_process_id (SPEC section 6).
func Compare(keys []api.OrderKey, a, b *SortRow) int {
	for _, k := range keys {
		var c int
		switch k.Field {
		case record.FieldID:
			c = cmp.Compare(a.ID, b.ID)
		case record.FieldSetID:
			c = cmp.Compare(a.SetID, b.SetID)
		case record.FieldModuleID:
			c = cmp.Compare(a.ModuleID, b.ModuleID)
		case record.FieldProcessName:
			c = strings.Compare(a.ProcessName, b.ProcessName)
		case record.FieldProcessID:
			c = cmp.Compare(a.PID, b.PID)
		case record.FieldInnerIP:
			c = a.IP.Compare(b.IP)
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(a.PID, b.PID)
}

// PageOf returns the ids of rows[off:off+limit], rows already sorted.
func PageOf(rows []SortRow, off uint64, limit int) []int64 {
	if off >= uint64(len(rows)) {
		return []int64{}
	}
	end := min(uint64(len(rows)), off+uint64(limit))
	ids := make([]int64, 0, end-off)
	for _, r := range rows[off:end] {
		ids = append(ids, r.PID)
	}
	return ids
}

// IPKey is a bk_host_innerip value placed in the order of SPEC section 6:
// IPv4 addresses (four decimal octets 0-255 without leading zeros) by
// value, then any other non-empty text byte-wise, then the empty string.
type IPKey struct {
	class uint8 // 0 address, 1 other text, 2 empty
	v     uint32
	text  string
}

// IPKeyOf returns the sort key of ip.
func IPKeyOf(ip string) IPKey {
	if ip == "" {
		return IPKey{class: 2}
	}
	if v, ok := ipv4(ip); ok {
		return IPKey{v: v}
	}
	return IPKey{class: 1, text: ip}
}

// Compare orders two keys.
func (a IPKey) Compare(b IPKey) int {
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	if c := cmp.Compare(a.v, b.v); c != 0 {
		return c
	}
	return strings.Compare(a.text, b.text)
}

// IPSortKey maps bk_host_innerip to a string whose byte order is the
// order of IPKey: "0" and eight hex digits for an IPv4 address, "1" and
// the text for any other non-empty value, "2" for the empty string. SQLite
// stores it as the ip_key column.
func IPSortKey(ip string) string {
	k := IPKeyOf(ip)
	switch k.class {
	case 0:
		const hex = "0123456789abcdef"
		b := [9]byte{'0'}
		for i := range 8 {
			b[1+i] = hex[k.v>>(28-4*i)&0xf]
		}
		return string(b[:])
	case 1:
		return "1" + ip
	}
	return "2"
}

// ipv4 parses four dot-separated decimal octets 0-255 without leading
// zeros.
func ipv4(s string) (uint32, bool) {
	var v uint32
	parts := 0
	for p := range strings.SplitSeq(s, ".") {
		if parts++; parts > 4 || p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return 0, false
		}
		n := 0
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		if n > 255 {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, parts == 4
}
