# bash completion for paddock (the command-line client of paddockd).
# Installed as /usr/share/bash-completion/completions/paddock; or: source cli/completion/paddock.bash
# Verbs and options mirror cli/src/args.cpp (tests/cli checks them against it). VM, pool, lease
# and session names are asked from the server (PADDOCK_URL/PADDOCK_TOKEN) for at most 2 seconds.

_paddock_global_opts="--url --token-file --token --output -o --ca-file --insecure --help -h --version"

_paddock_verbs() {
    case "$1" in
        vm) echo "ls show create start stop restart rm console" ;;
        pool) echo "ls allocate" ;;
        lease) echo "ls extend release" ;;
        session) echo "ls play download" ;;
        site) echo "ls" ;;
        plugin) echo "ls" ;;
    esac
}

_paddock_opts() {
    case "$1 $2" in
        "vm ls") echo "--site --owner --state --all" ;;
        "vm create") echo "--template -t --vcpus --memory --owner --site --no-start --provision --wait" ;;
        "vm stop") echo "--force" ;;
        "vm rm") echo "--yes -y" ;;
        "pool allocate") echo "--owner --ttl --idempotency-key" ;;
        "lease ls") echo "--owner --pool" ;;
        "lease extend") echo "--ttl --seconds" ;;
        "session ls") echo "--vm --owner" ;;
        "session play") echo "--speed --idle-limit" ;;
        "session download") echo "--output-file -O" ;;
    esac
}

# First column of a `paddock GROUP ls` table, without its header.
_paddock_names() {
    timeout 2 paddock "$1" ls 2>/dev/null | tail -n +2 | cut -d' ' -f1
}

_paddock() {
    local cur prev group="" verb="" i word
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    # Options that take a value consume the next word.
    local valued=" --url --token-file --token --output -o --ca-file --template -t --vcpus --memory --owner --site --ttl --idempotency-key --seconds --pool --vm --speed --idle-limit --output-file -O "
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ "$valued" == *" $word "* ]]; then
            ((i++))
            continue
        fi
        [[ "$word" == -* ]] && continue
        if [[ -z "$group" ]]; then
            group="$word"
        elif [[ -z "$verb" ]]; then
            verb="$word"
        fi
    done

    case "$prev" in
        --output|-o) COMPREPLY=($(compgen -W "table wide json" -- "$cur")); return ;;
        --token-file|--ca-file|--output-file|-O) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --url|--token|--template|-t|--vcpus|--memory|--owner|--site|--ttl|--idempotency-key|--seconds|--pool|--vm|--speed|--idle-limit)
            return ;;
    esac

    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$_paddock_global_opts $(_paddock_opts "$group" "$verb")" -- "$cur"))
        return
    fi
    if [[ -z "$group" ]]; then
        COMPREPLY=($(compgen -W "vm pool lease session site plugin" -- "$cur"))
    elif [[ -z "$verb" ]]; then
        COMPREPLY=($(compgen -W "$(_paddock_verbs "$group")" -- "$cur"))
    else
        case "$group $verb" in
            "vm ls"|"pool ls"|"lease ls"|"session ls"|"site ls"|"plugin ls") ;;
            "vm "*) COMPREPLY=($(compgen -W "$(_paddock_names vm)" -- "$cur")) ;;
            "pool allocate") COMPREPLY=($(compgen -W "$(_paddock_names pool)" -- "$cur")) ;;
            "lease "*) COMPREPLY=($(compgen -W "$(_paddock_names lease)" -- "$cur")) ;;
            "session play") COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "$(_paddock_names session)" -- "$cur")) ;;
            "session download") COMPREPLY=($(compgen -W "$(_paddock_names session)" -- "$cur")) ;;
        esac
    fi
}

complete -F _paddock paddock
