# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bash completion for memtrack-load, memtrack-report and memtrack-plot:
# their options, the values of those with a fixed set, files for file
# options, PIDs for -p (after a comma too), cgroups for --cgroup, and the
# traced command's own completion after it. make install puts this file
# under share/bash-completion/completions as memtrack-load, with
# memtrack-report and memtrack-plot linked to it.

# options that take a value, and those that do not (keep to each tool's --help)
_memtrack_report_valued='--min-age --top --min-size --max-size --folded --folded-alloc
	--pprof --report-file --debug-dir --group-by --massif'
_memtrack_report_flags='--leaks -T --trace -m --largest -s --stats --json --by-cgroup
	--no-summary --fail-on-leaks --peak'
_memtrack_load_valued="-o --output -p --pid -d --duration --interval --cgroup -l --lib --ringbuf-size
	--source --stack-depth --unwind --max-stacks --max-live $_memtrack_report_valued"
_memtrack_load_flags="-a --all --cgroup-ids --no-children --system-probes --strict -q --quiet
	--free-stacks --no-aggregate --mmap -v --verbose -h --help -V --version
	$_memtrack_report_flags"
_memtrack_plot_valued='-o --output --width --height --title'
_memtrack_plot_flags='-h --help -V --version'

# Is $1 one of the words of $2?
_memtrack_in()
{
	local w IFS=$' \t\n'
	for w in $2; do
		[[ $w == "$1" ]] && return 0
	done
	return 1
}

# COMPREPLY: the words of $1 that start with $2
_memtrack_words()
{
	local IFS=$' \t\n'
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

# COMPREPLY: files (or, with -d, directories) that start with $1
_memtrack_files()
{
	local IFS=$'\n' kind=-f
	[[ $1 == -d ]] && kind=-d && shift
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen $kind -- "$1"))
}

# COMPREPLY: a PID after the last comma of $1, as in -p 12,34
_memtrack_pids()
{
	local head='' tail=$1 p pids=''
	if [[ $1 == *,* ]]; then
		head=${1%,*},
		tail=${1##*,}
	fi
	for p in /proc/[0-9]*; do
		pids+=" ${p#/proc/}"
	done
	_memtrack_words "$pids" "$tail"
	COMPREPLY=("${COMPREPLY[@]/#/$head}")
}

# COMPREPLY: cgroups under the cgroup2 mount, relative to it (or absolute paths)
_memtrack_cgroups()
{
	local mnt IFS=$'\n'
	if [[ $1 == /* ]]; then
		_memtrack_files -d "$1"
		return
	fi
	mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts 2>/dev/null)
	[[ -n $mnt ]] || return
	compopt -o filenames -o nospace 2>/dev/null
	COMPREPLY=($(cd "$mnt" 2>/dev/null && compgen -d -S / -- "$1"))
}

# COMPREPLY: the value of option $1 that starts with $2
_memtrack_value()
{
	case $1 in
	-o | --output | --folded | --folded-alloc | --pprof | --massif | --report-file | -l | --lib | \
		--diff)
		_memtrack_files "$2" ;;
	--debug-dir) _memtrack_files -d "$2" ;;
	-p | --pid) _memtrack_pids "$2" ;;
	--cgroup) _memtrack_cgroups "$2" ;;
	--source) _memtrack_words 'uprobe usdt' "$2" ;;
	--unwind) _memtrack_words 'dwarf fp' "$2" ;;
	--group-by) _memtrack_words 'location address' "$2" ;;
	*) COMPREPLY=() ;; # a number, a time, a title: nothing to offer
	esac
}

_memtrack()
{
	local tool=${1##*/} cur=${COMP_WORDS[COMP_CWORD]} prev='' valued flags i word
	local cword=$COMP_CWORD
	COMPREPLY=()
	case $tool in
	memtrack-load) valued=$_memtrack_load_valued flags=$_memtrack_load_flags ;;
	memtrack-report) valued="$_memtrack_report_valued --diff"
		flags="$_memtrack_report_flags -h --help -V --version" ;;
	memtrack-plot) valued=$_memtrack_plot_valued flags=$_memtrack_plot_flags ;;
	*) return ;;
	esac
	# --opt=value: bash splits it at the '=' (COMP_WORDBREAKS)
	if [[ $cur == = ]]; then
		cur=
		prev=${COMP_WORDS[cword - 1]}
	elif ((cword >= 2)) && [[ ${COMP_WORDS[cword - 1]} == = ]]; then
		prev=${COMP_WORDS[cword - 2]}
	elif ((cword >= 1)); then
		prev=${COMP_WORDS[cword - 1]}
	fi
	# memtrack-load's command: its first word not an option nor a value, or after --
	if [[ $tool == memtrack-load ]]; then
		for ((i = 1; i < cword; i++)); do
			word=${COMP_WORDS[i]}
			if [[ $word == -- ]]; then
				((i++))
				break
			elif _memtrack_in "$word" "$valued" && [[ ${COMP_WORDS[i + 1]} != = ]]; then
				((i++))
			elif [[ $word == = ]]; then
				((i++))
			elif [[ $word != -* ]]; then
				break
			fi
		done
		if ((i < cword)) || { ((i == cword)) && [[ ${COMP_WORDS[i - 1]} == -- ]]; }; then
			if declare -F _command_offset >/dev/null; then
				_command_offset "$i"
			elif ((i == cword)); then
				local IFS=$'\n'
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				_memtrack_files "$cur"
			fi
			return
		fi
	fi
	if [[ -n $prev ]] && _memtrack_in "$prev" "$valued"; then
		_memtrack_value "$prev" "$cur"
		return
	fi
	if [[ $cur == -* ]]; then
		_memtrack_words "$valued $flags" "$cur"
		return
	fi
	# the operand: memtrack-report's and memtrack-plot's trace, memtrack-load's command
	if [[ $tool == memtrack-load ]]; then
		local IFS=$'\n'
		COMPREPLY=($(compgen -c -- "$cur"))
	else
		_memtrack_files "$cur"
	fi
}

complete -F _memtrack memtrack-load memtrack-report memtrack-plot
