#!/bin/bash
# Stop every running Grok MCP process of one installation: the processes whose executable lives under
# DIR (default /opt/grok-mcp), found through /proc/PID/exe and never by name, so a program elsewhere
# that happens to be called grok-mcp is left alone. Trays first (their server children follow them),
# then servers started by MCP clients. SIGTERM, a bounded wait, then SIGKILL for what is left.
#
# Usage: stop-running.sh [DIR]      (the .deb's prerm runs it on upgrade and removal)
# Prints one line per stopped program; exits 0 when nothing of ours is left running.
set -euo pipefail

dir=${1:-/opt/grok-mcp}
dir=${dir%/}
wait_s=${GROK_MCP_STOP_WAIT_S:-10}

# PIDs whose executable is DIR/NAME (NAME: grok-mcp-desktop or grok-mcp). A deleted executable (the
# files were already replaced) reads as "PATH (deleted)" and still counts.
pids_of() {
    local name=$1 link target pid
    for link in /proc/[0-9]*/exe; do
        target=$(readlink "$link" 2>/dev/null) || continue
        case $target in
            "$dir/$name" | "$dir/$name (deleted)")
                pid=${link#/proc/}
                pid=${pid%/exe}
                [ "$pid" != "$$" ] && printf '%s\n' "$pid"
                ;;
        esac
    done
    return 0
}

# Alive and not a zombie (a zombie's exe link cannot be read, so pids_of never lists one).
is_running() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != "Z" ]
}

stop() {
    local name=$1 pid
    local -a pids
    mapfile -t pids < <(pids_of "$name")
    [ "${#pids[@]}" -gt 0 ] || return 0
    for pid in "${pids[@]}"; do
        echo "Stopping $name (pid $pid)."
        kill -TERM "$pid" 2>/dev/null || true
    done
    local deadline=$((SECONDS + wait_s))
    while [ "$SECONDS" -lt "$deadline" ]; do
        local left=0
        for pid in "${pids[@]}"; do
            if is_running "$pid"; then left=1; fi
        done
        [ "$left" = 0 ] && return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        if is_running "$pid"; then
            echo "$name (pid $pid) did not stop within ${wait_s} s; killing it."
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

stop grok-mcp-desktop
stop grok-mcp
