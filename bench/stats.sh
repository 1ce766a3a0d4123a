# shellcheck shell=bash
# The benchmarks' one statistic, sourced by run.sh and peers.sh.

# samples (words on stdin) -> "median min max count" over the numeric ones, or nothing
stats() {
	tr ' ' '\n' | grep -E '^-?[0-9.]+(e[-+]?[0-9]+)?$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR], NR
		}'
}

# samples -> their median
median() { stats | cut -d' ' -f1; }
