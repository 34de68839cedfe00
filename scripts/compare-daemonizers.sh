#!/usr/bin/env bash
# The checks below are strings that yes_no evaluates later, with the variables of the moment.
# shellcheck disable=SC2016,SC2034
# scripts/compare-daemonizers.sh — runs the same checks against ospp-daemonize and the daemonizers a
# user would otherwise pick (Debian packages `daemon` (libslack), `daemonize` (bmc) and dpkg's
# `start-stop-daemon`), and writes the comparison table into docs/daemonize.md between the
# `<!-- compare:begin -->` and `<!-- compare:end -->` markers.
#
#   scripts/compare-daemonizers.sh [BUILD_DIR]      (default: build; run as root for -u checks)
#
# Each tool starts a probe program the same way: from a pseudo-terminal it controls, with a stray
# inheritable fd 10, SIGUSR1 blocked and SIGUSR2 ignored, umask 077, cwd /tmp. The probe writes
# what it finds about itself (session, terminal, cwd, umask, fds, signal mask and dispositions,
# core limit) into a FIFO this script reads, then waits to be killed. Not part of the test suite:
# it needs the other tools installed (apt-get install daemon daemonize).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
ospp=$build/tools/ospp-daemonize
doc=$root/docs/daemonize.md
[[ -x $ospp ]] || { echo "build ospp-daemonize first ($ospp)" >&2; exit 1; }
for t in daemon daemonize start-stop-daemon cc python3; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install daemon daemonize)" >&2; exit 1; }
done

# Not under /tmp: daemon(1) refuses to run a program from a group- or world-writable directory.
mkdir -p "$build/compare"
work=$(mktemp -d "$build/compare/run.XXXXXX")
cleanup() {
    local f pid
    for f in "$work"/*.pid.seen "$work/held"; do
        [[ -e $f ]] || continue
        while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$f"
    done
    rm -rf "$work"
    rmdir "$build/compare" 2>/dev/null || true
}
trap cleanup EXIT

# The probe: reports on itself into argv[1] (a FIFO), then sleeps until killed.
cat >"$work/probe.c" <<'EOF'
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char** argv) {
    char fds[4096] = "", line[512], cwd[1024] = "?";
    DIR* d = opendir("/proc/self/fd");
    struct dirent* e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
        char link[64], target[256] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) target[n] = 0;
        snprintf(line, sizeof line, "%s%s=%s", fds[0] ? " " : "", e->d_name, target);
        strncat(fds, line, sizeof fds - strlen(fds) - 1);
    }
    if (d) closedir(d);
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
    mode_t mask = umask(0);
    umask(mask);
    struct rlimit core;
    getrlimit(RLIMIT_CORE, &core);
    FILE* out = fopen(argv[1], "w");
    if (!out) return 1;
    fprintf(out, "pid=%d\nsid=%d\nfds=%s\ncwd=%s\numask=%04o\ncore=%lld\n", getpid(), getsid(0), fds, cwd,
            mask, (long long)core.rlim_cur);
    FILE* st = fopen("/proc/self/stat", "r");
    if (st && fgets(line, sizeof line, st)) {
        int tty = 0;
        char* p = strrchr(line, ')');
        sscanf(p + 2, "%*c %*d %*d %*d %d", &tty);
        fprintf(out, "tty=%d\n", tty);
    }
    FILE* s = fopen("/proc/self/status", "r");
    while (s && fgets(line, sizeof line, s))
        if (!strncmp(line, "SigBlk:", 7) || !strncmp(line, "SigIgn:", 7) || !strncmp(line, "Uid:", 4))
            fputs(line, out);
    fclose(out);
    for (;;) pause();
}
EOF
cc -O1 -o "$work/probe" "$work/probe.c"
probe=$work/probe

# Starts argv like a user at a terminal would, with the usual mess inherited: a "shell" that leads a
# session on a pseudo-terminal runs the tool as its foreground job and stays, as a shell would, so
# that no hangup reaches the daemon when the tool exits (it is killed at the end, see `held`).
# Exits with the tool's exit code.
cat >"$work/launch.py" <<'EOF'
import fcntl, os, resource, signal, sys, termios
held = sys.argv[1]
codes_r, codes_w = os.pipe()
if os.fork() == 0:  # the shell
    master, slave = os.openpty()
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    pid = os.fork()
    if pid == 0:  # the job
        os.setpgid(0, 0)
        os.tcsetpgrp(slave, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.dup2(slave, 0)
        os.dup2(os.open("/dev/null", os.O_RDONLY), 10)  # a stray inheritable fd
        os.closerange(3, 10)  # and nothing else: whatever this script inherited stays out
        os.closerange(11, 65536)
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # core dumps allowed, as a shell may
        for s in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; a shell would not
            signal.signal(s, signal.SIG_DFL)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        os.umask(0o077)
        os.chdir("/tmp")
        os.execvp(sys.argv[2], sys.argv[2:])
    _, status = os.waitpid(pid, 0)
    with open(held, "a") as f:
        f.write(f"{os.getpid()}\n")
    os.write(codes_w, bytes([os.waitstatus_to_exitcode(status) & 255]))
    while True:
        signal.pause()
os.close(codes_w)
code = os.read(codes_r, 1)
sys.exit(code[0] if code else 1)
EOF

launch() { /usr/bin/python3 "$work/launch.py" "$work/held" "$@" </dev/null >/dev/null 2>&1; }

# start TOOL PIDFILE PROBE_ARGS...: the tool's way of starting the probe with a pidfile.
start() {
    local tool=$1 pf=$2
    shift 2
    case $tool in
    ospp-daemonize) launch "$ospp" -p "$pf" -- "$@" ;;
    daemon) launch daemon -n "cmp$RANDOM" -F "$pf" -- "$@" ;;
    daemonize) launch daemonize -p "$pf" -l "$pf" -- "$@" ;;
    start-stop-daemon) launch start-stop-daemon --start --background --make-pidfile --pidfile "$pf" --exec "$1" -- "${@:2}" ;;
    esac
}

# Reads the probe's report from a FIFO (bounded: a tool that never starts the probe times out).
report() { timeout 10 cat "$1" 2>/dev/null || true; }
# Whether any process holds a lock of any kind (flock, POSIX, OFD) on the file, from /proc/locks.
locked() {
    [[ -f $1 ]] || return 1
    local dev ino
    dev=$((16#$(stat -c %D "$1")))
    ino=$(stat -c %i "$1")
    grep -v -- '->' /proc/locks | grep -q " $(printf '%02x:%02x' $((dev >> 8)) $((dev & 255))):$ino "
}
field() { sed -n "s/^$1[=:][[:space:]]*//p" <<<"$2" | head -1; }
yes_no() { if eval "$1"; then echo "yes"; else echo "no${2:+ ($2)}"; fi; }

declare -A cell
tools=(ospp-daemonize daemon daemonize start-stop-daemon)
for tool in "${tools[@]}"; do
    d=$work/$tool
    mkdir -p "$d"
    pf=$d/x.pid
    mkfifo "$d/r1" "$d/r2" "$d/r3"
    rc=0
    start "$tool" "$pf" "$probe" "$d/r1" || rc=$?
    r=$(report "$d/r1")
    pid=$(field pid "$r")
    [[ -n $pid ]] && echo "$pid" >"$work/$tool.pid.seen"
    cell[$tool,started]=$(yes_no '[[ -n $pid ]]' "exit $rc")
    sid=$(field sid "$r")
    cell[$tool,session]=$(yes_no '[[ -n $pid && $sid != "$pid" ]]' "session leader")
    cell[$tool,tty]=$(yes_no '[[ $(field tty "$r") == 0 ]]')
    cell[$tool,cwd]=$(field cwd "$r")
    cell[$tool,umask]=$(field umask "$r")
    fds=$(field fds "$r" | sed 's/:\[[0-9]*\]//g')  # pipe:[1234] -> pipe: stable across runs
    cell[$tool,stdio]=$(yes_no '[[ $fds == *"0=/dev/null 1=/dev/null 2=/dev/null"* ]]' "${fds%% 3=*}")
    extra=$(tr ' ' '\n' <<<"$fds" | grep -v '^[012]=' | sed "s|$pf|pidfile|" | paste -sd ' ' || true)
    cell[$tool,fds]=$(yes_no '[[ $extra != *"10=/dev/null"* ]]' "fd 10 inherited")
    cell[$tool,extra]=${extra:-none}
    cell[$tool,sigblk]=$(yes_no '[[ $(field SigBlk "$r") == 0000000000000000 ]]' "SIGUSR1 still blocked")
    cell[$tool,sigign]=$(yes_no '[[ $(field SigIgn "$r") == 0000000000000000 ]]' "SIGUSR2 still ignored")
    # With a hard limit of 0 the job cannot allow core dumps, so every tool would look "yes".
    if [[ $(ulimit -Hc) == 0 ]]; then
        cell[$tool,core]="not measured (hard RLIMIT_CORE 0)"
    else
        cell[$tool,core]=$(yes_no '[[ $(field core "$r") == 0 ]]')
    fi
    cell[$tool,pidfile]=$(yes_no '[[ -n $pid && -f $pf && $(cat "$pf" 2>/dev/null) == "$pid" ]]' "names another process")
    cell[$tool,locked]=$(yes_no '[[ -n $pid ]] && locked "$pf"')

    # A second start while the first runs.
    rc=0
    start "$tool" "$pf" "$probe" "$d/r2" || rc=$?
    r2=$(timeout 2 cat "$d/r2" 2>/dev/null || true)
    pid2=$(field pid "$r2")
    [[ -n $pid2 ]] && kill -KILL "$pid2" 2>/dev/null
    cell[$tool,second]=$(yes_no '[[ -z $pid2 && $rc != 0 ]]' "${pid2:+started a second one, }${pid2:-refused, but }exit $rc")

    # Stale pidfile: the daemon is gone, its file is left behind.
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
    while [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done  # not our child: poll
    echo 999999 >"$pf"
    rc=0
    start "$tool" "$pf" "$probe" "$d/r3" || rc=$?
    r3=$(report "$d/r3")
    pid3=$(field pid "$r3")
    [[ -n $pid3 ]] && kill -KILL "$pid3" 2>/dev/null
    cell[$tool,stale]=$(yes_no '[[ -n $pid3 ]]' "exit $rc")

    # A command that cannot be executed: missing, and present but with a missing #! interpreter
    # (so that only execve itself can tell).
    rc=0
    start "$tool" "$d/y.pid" /nonexistent/cmd || rc=$?
    cell[$tool,execfail]=$(yes_no '[[ $rc != 0 ]]' "exits 0")
    printf '#!/nonexistent/interpreter\n' >"$d/badinterp"
    chmod 755 "$d/badinterp"
    rc=0
    start "$tool" "$d/z.pid" "$d/badinterp" || rc=$?
    cell[$tool,execfail2]=$(yes_no '[[ $rc != 0 ]]' "exits 0")
done

rows=(
    "started|Starts the command (launcher exits 0)"
    "execfail|Launcher exits non-zero for a missing command"
    "execfail2|Launcher exits non-zero when execve fails (missing #! interpreter)"
    "session|Not a session leader (second fork)"
    "tty|No controlling terminal"
    "cwd|Working directory"
    "umask|Umask (launcher had 077)"
    "stdio|0-2 on /dev/null"
    "fds|Stray inherited fd 10 closed"
    "extra|Other fds the command inherits"
    "sigblk|Blocked signal (SIGUSR1) unblocked"
    "sigign|Ignored signal (SIGUSR2) reset"
    "core|Core dumps prevented (RLIMIT_CORE 0)"
    "pidfile|Pidfile names the command"
    "locked|Pidfile locked while running"
    "second|Second start refused (non-zero exit)"
    "stale|Stale pidfile taken over"
)
{
    echo "<!-- compare:begin -->"
    echo "Measured by \`scripts/compare-daemonizers.sh\` on $(. /etc/os-release && echo "$PRETTY_NAME"), $(date -u +%Y-%m-%d)."
    echo "Versions: daemon $(dpkg-query -W -f='${Version}' daemon), daemonize $(dpkg-query -W -f='${Version}' daemonize), start-stop-daemon (dpkg $(dpkg-query -W -f='${Version}' dpkg))."
    echo
    printf '| check |'
    for t in "${tools[@]}"; do printf ' %s |' "$t"; done
    printf '\n|---|'
    for t in "${tools[@]}"; do printf -- '---|'; done
    echo
    for row in "${rows[@]}"; do
        key=${row%%|*}
        printf '| %s |' "${row#*|}"
        for t in "${tools[@]}"; do printf ' %s |' "${cell[$t,$key]}"; done
        echo
    done
    echo "<!-- compare:end -->"
} >"$work/table.md"

if [[ -f $doc ]] && grep -q '<!-- compare:begin -->' "$doc"; then
    python3 - "$doc" "$work/table.md" <<'EOF'
import sys, re
doc, table = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(doc).read()
text = re.sub(r"<!-- compare:begin -->.*<!-- compare:end -->", lambda m: table, text, flags=re.S)
open(doc, "w").write(text)
EOF
    echo "updated $doc"
else
    cat "$work/table.md"
fi
