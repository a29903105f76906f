package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	mbits "math/bits"
)

// A bitmap of the image is roaring's portable serialization
// (github.com/RoaringBitmap/RoaringFormatSpec):
//
//	cookie     uint32: roaringCookie | (containers-1)<<16, then a bit a
//	           container telling run containers; or roaringCookieNoRun,
//	           then the number of containers as a uint32
//	header     per container: key uint16, cardinality-1 uint16
//	offsets    per container: uint32 offset of its data, when there is no
//	           run bit set or there are at least roaringNoOffsetThreshold
//	           containers
//	containers run: count uint16, then (start, length-1) uint16 pairs;
//	           else at most roaringArrayMax values: sorted uint16s;
//	           else a bitmap of 1<<16 bits
//
// all little-endian. checkRoaring checks these bytes before roaring reads
// them, because roaring trusts them: it takes a bitmap container's
// cardinality from the header and never sorts an array or a run list.

const (
	roaringCookie            = 12347
	roaringCookieNoRun       = 12346
	roaringNoOffsetThreshold = 4
	roaringArrayMax          = 4096
	roaringBitmapBytes       = 1 << 16 / 8
)

// errBitmap is wrapped by every error of checkRoaring.
var errBitmap = errors.New("bitmap")

// roaringLayout is the header of one serialized bitmap.
type roaringLayout struct {
	size    int    // containers
	runs    []byte // run container bits, or nil
	keycard []byte // key, cardinality-1 per container
	offsets []byte // uint32 per container, or nil
	data    int    // where the first container starts
}

// checkRoaring checks that b is exactly one bitmap in roaring's portable
// serialization that keeps roaring's invariants (what Bitmap.Validate
// checks: keys and values strictly ascending, cardinalities true, runs
// neither overlapping, touching nor wrapping past 65535) and whose values
// are all below n. It reads each byte once, not each value.
func checkRoaring(b []byte, n int) error {
	l, err := roaringHeader(b)
	if err != nil {
		return err
	}
	pos, last := l.data, -1
	for i := range l.size {
		key := int(binary.LittleEndian.Uint16(l.keycard[4*i:]))
		card := int(binary.LittleEndian.Uint16(l.keycard[4*i+2:])) + 1
		if key<<16 <= last {
			return fmt.Errorf("%w: container keys not ascending", errBitmap)
		}
		if l.offsets != nil && int(binary.LittleEndian.Uint32(l.offsets[4*i:])) != pos {
			return fmt.Errorf("%w: container %d offset is not where it starts", errBitmap, i)
		}
		run := l.runs != nil && l.runs[i/8]&(1<<(i%8)) != 0
		used, hi, err := checkContainer(b[pos:], card, run)
		if err != nil {
			return fmt.Errorf("%w: container %d: %w", errBitmap, i, err)
		}
		pos, last = pos+used, key<<16|hi
	}
	if pos != len(b) {
		return fmt.Errorf("%w: %d bytes after the last container", errBitmap, len(b)-pos)
	}
	if last >= n {
		return fmt.Errorf("%w: value %d of %d rows", errBitmap, last, n)
	}
	return nil
}

// roaringHeader reads the cookie, header and offsets of a serialized
// bitmap.
func roaringHeader(b []byte) (roaringLayout, error) {
	var l roaringLayout
	if len(b) < 4 {
		return l, fmt.Errorf("%w: %d bytes", errBitmap, len(b))
	}
	cookie, pos := binary.LittleEndian.Uint32(b), 4
	switch {
	case cookie&0xffff == roaringCookie:
		l.size = int(cookie>>16) + 1
		nr := (l.size + 7) / 8
		if len(b)-pos < nr {
			return l, fmt.Errorf("%w: run bits cut short", errBitmap)
		}
		l.runs, pos = b[pos:pos+nr], pos+nr
	case cookie == roaringCookieNoRun:
		if len(b) < 8 {
			return l, fmt.Errorf("%w: size cut short", errBitmap)
		}
		size := binary.LittleEndian.Uint32(b[4:])
		if size > 1<<16 {
			return l, fmt.Errorf("%w: %d containers", errBitmap, size)
		}
		l.size, pos = int(size), 8
	default:
		return l, fmt.Errorf("%w: cookie 0x%08x", errBitmap, cookie)
	}
	if len(b)-pos < 4*l.size {
		return l, fmt.Errorf("%w: header cut short", errBitmap)
	}
	l.keycard, pos = b[pos:pos+4*l.size], pos+4*l.size
	if l.runs == nil || l.size >= roaringNoOffsetThreshold {
		if len(b)-pos < 4*l.size {
			return l, fmt.Errorf("%w: offsets cut short", errBitmap)
		}
		l.offsets, pos = b[pos:pos+4*l.size], pos+4*l.size
	}
	l.data = pos
	return l, nil
}

// checkContainer checks the container at the start of b whose header
// claims card values and returns its length in bytes and its largest
// value.
func checkContainer(b []byte, card int, run bool) (used, last int, err error) {
	switch {
	case run:
		return checkRuns(b, card)
	case card > roaringArrayMax:
		return checkBitset(b, card)
	}
	return checkArray(b, card)
}

// checkArray checks an array container: card values strictly ascending.
func checkArray(b []byte, card int) (used, last int, err error) {
	if len(b) < 2*card {
		return 0, 0, errors.New("array cut short")
	}
	last = -1
	for i := 0; i < 2*card; i += 2 {
		v := int(binary.LittleEndian.Uint16(b[i:]))
		if v <= last {
			return 0, 0, errors.New("array values not ascending")
		}
		last = v
	}
	return 2 * card, last, nil
}

// checkBitset checks a bitmap container: card bits set.
func checkBitset(b []byte, card int) (used, last int, err error) {
	if len(b) < roaringBitmapBytes {
		return 0, 0, errors.New("bitmap cut short")
	}
	got := 0
	for i := 0; i < roaringBitmapBytes; i += 8 {
		if w := binary.LittleEndian.Uint64(b[i:]); w != 0 {
			got += mbits.OnesCount64(w)
			last = i*8 + 63 - mbits.LeadingZeros64(w)
		}
	}
	if got != card {
		return 0, 0, fmt.Errorf("bitmap of %d values, header says %d", got, card)
	}
	return roaringBitmapBytes, last, nil
}

// checkRuns checks a run container: runs ascending, apart (neither
// overlapping nor touching), within 0..65535, card values in all.
func checkRuns(b []byte, card int) (used, last int, err error) {
	if len(b) < 2 {
		return 0, 0, errors.New("run count cut short")
	}
	nr := int(binary.LittleEndian.Uint16(b))
	if len(b)-2 < 4*nr {
		return 0, 0, errors.New("runs cut short")
	}
	got, last := 0, -2
	for i := 2; i < 2+4*nr; i += 4 {
		start := int(binary.LittleEndian.Uint16(b[i:]))
		end := start + int(binary.LittleEndian.Uint16(b[i+2:]))
		if start <= last+1 || end > 0xffff {
			return 0, 0, errors.New("runs overlapping, touching, unsorted or past 65535")
		}
		got, last = got+end-start+1, end
	}
	if got != card {
		return 0, 0, fmt.Errorf("runs of %d values, header says %d", got, card)
	}
	return 2 + 4*nr, last, nil
}
