// Cutting a large file into parts hclsyntax parses alone.

package main

import (
	"bytes"
)

// chunkSize is the size of the parts a large file is parsed in: hclsyntax keeps every
// token of what it parses, and a 2 MB file parsed whole costs hundreds of MB and a
// fifth of the run in page faults.
const chunkSize = 64 << 10

// chunks gives offsets where src can be cut into parts of about size bytes that
// hclsyntax parses alone as it would parse them in the whole file: line starts
// outside any bracket, string or comment (an item of a body ends at a newline
// outside brackets). It gives none when it meets what it does not follow (a
// heredoc, a directive, an interpolation holding quotes or braces) or the text does
// not close what it opens; the file is then parsed whole.
func chunks(src []byte, size int) []int {
	var cuts []int
	depth, last := 0, 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				i--
			} else if i+1 < len(src) && src[i+1] == '*' {
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return nil
				}
				i += end + 3
			}
		case '<':
			if i+1 < len(src) && src[i+1] == '<' {
				return nil
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth--; depth < 0 {
				return nil
			}
		case '"':
			end := stringEnd(src, i+1)
			if end < 0 {
				return nil
			}
			i = end
		case '\n':
			if depth == 0 && i+1-last >= size && i+1 < len(src) {
				last = i + 1
				cuts = append(cuts, last)
			}
		}
	}
	if depth != 0 {
		return nil
	}
	return cuts
}

// stringEnd is the offset of the quote closing the string that starts at i, or -1.
func stringEnd(src []byte, i int) int {
	for ; i < len(src); i++ {
		switch src[i] {
		case '"':
			return i
		case '\\':
			i++
		case '\n', '%':
			return -1
		case '$':
			if i+1 < len(src) && src[i+1] == '$' {
				i++ // "$$": a literal "$" (and "$${" a literal "${")
			} else if i+1 < len(src) && src[i+1] == '{' {
				end := bytes.IndexByte(src[i:], '}')
				if end < 0 || bytes.ContainsAny(src[i+2:i+end], "\"{\n") {
					return -1
				}
				i += end
			}
		}
	}
	return -1
}
