// SPDX-License-Identifier: Apache-2.0

package main

import (
	"unicode/utf8"
)

// jsText is a string that marshals to JSON exactly as Node would render
// JSON.stringify(Buffer.from(bytes).toString('utf8')):
//
//   - the bytes are decoded as UTF-8 the WHATWG way (each maximal invalid
//     subpart becomes one U+FFFD), which is what Node's Buffer decoder does;
//     Go's own decoders emit one U+FFFD per bad byte instead;
//   - only '"', '\\' and C0 controls are escaped (\b \t \n \f \r, others as
//     \u00xx with lower-case hex); '<', '>', '&', U+2028 and U+2029 stay
//     literal, unlike encoding/json's default string encoding.
type jsText string

// MarshalJSON implements json.Marshaler.
func (t jsText) MarshalJSON() ([]byte, error) {
	return appendJSString(make([]byte, 0, len(t)+2), decodeUTF8([]byte(t))), nil
}

const lowerHex = "0123456789abcdef"

func appendJSString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// decodeUTF8 converts bytes to valid UTF-8 text following the WHATWG
// "UTF-8 decode" algorithm (replacement of maximal subparts), so invalid input
// yields the same string as Node's Buffer#toString('utf8').
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	var (
		cp     rune
		needed int
		seen   int
		lower  byte = 0x80
		upper  byte = 0xBF
	)
	for i := 0; i < len(b); {
		c := b[i]
		if needed == 0 {
			switch {
			case c <= 0x7F:
				out = append(out, c)
			case c >= 0xC2 && c <= 0xDF:
				needed, cp = 1, rune(c&0x1F)
			case c >= 0xE0 && c <= 0xEF:
				if c == 0xE0 {
					lower = 0xA0
				} else if c == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(c&0x0F)
			case c >= 0xF0 && c <= 0xF4:
				if c == 0xF0 {
					lower = 0x90
				} else if c == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(c&0x07)
			default:
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			i++
			continue
		}
		if c < lower || c > upper {
			// Abandon the partial sequence and look at this byte again.
			cp, needed, seen, lower, upper = 0, 0, 0, 0x80, 0xBF
			out = utf8.AppendRune(out, utf8.RuneError)
			continue
		}
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(c&0x3F)
		seen++
		i++
		if seen == needed {
			out = utf8.AppendRune(out, cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	if needed != 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return string(out)
}
