package jsonscan

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

// SkipValid returns the index after the JSON value starting at data[i]
// (leading white space allowed), or -1 when it is not valid JSON. It
// accepts exactly what encoding/json accepts, in one pass, and unlike the
// other functions of this package it may be given any text.
func SkipValid(data []byte, i int) int { return skipValid(data, i, 0) }

func skipValid(data []byte, i, depth int) int {
	i = SkipSpace(data, i)
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return SkipValidString(data, i)
	case c == '{':
		if depth >= maxDepth {
			return -1
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(data) || data[i] != '"' {
				return -1
			}
			if i = SkipValidString(data, i); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) || data[i] != ':' {
				return -1
			}
			if i = skipValid(data, i+1, depth+1); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			if data[i] == '}' {
				return i + 1
			}
			if data[i] != ',' {
				return -1
			}
			i = SkipSpace(data, i+1)
		}
	case c == '[':
		if depth >= maxDepth {
			return -1
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValid(data, i, depth+1); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			if data[i] == ']' {
				return i + 1
			}
			if data[i] != ',' {
				return -1
			}
			i++
		}
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(data, i)
	}
	return -1
}

func literal(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// SkipValidString returns the index after the JSON string starting at
// data[i] == '"', or -1 when it is not a valid JSON string.
func SkipValidString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-i < 5 {
					return -1
				}
				for _, h := range data[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func skipNumber(data []byte, i int) int {
	digits := func(i int) int {
		start := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
	if data[i] == '-' {
		i++
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if i = digits(i); i < 0 {
		return -1
	}
	if i < len(data) && data[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

// Valid reports whether data is exactly one JSON value, as json.Valid does.
func Valid(data []byte) bool {
	i := skipValid(data, 0, 0)
	return i >= 0 && SkipSpace(data, i) == len(data)
}
