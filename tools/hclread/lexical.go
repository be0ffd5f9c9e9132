// The lexical forms of the subset: names, references, numbers.

package main

import (
	"strings"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// isIdent: [A-Za-z_][A-Za-z0-9_-]* (python-hcl2's NAME, ASCII only).
func isIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isIdentStart(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// isRef: NAME ("." NAME)*.
func isRef(s string) bool {
	for {
		dot := strings.IndexByte(s, '.')
		if dot < 0 {
			return isIdent(s)
		}
		if !isIdent(s[:dot]) {
			return false
		}
		s = s[dot+1:]
	}
}

// isDigits: [0-9]+.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// isInt: -?[0-9]+;  isFloat: -?[0-9]+.[0-9]+
func isInt(s string) bool { return isDigits(strings.TrimPrefix(s, "-")) }

func isFloat(s string) bool {
	s = strings.TrimPrefix(s, "-")
	dot := strings.IndexByte(s, '.')
	return dot > 0 && isDigits(s[:dot]) && isDigits(s[dot+1:])
}
