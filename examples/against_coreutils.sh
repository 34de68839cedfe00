#!/bin/sh
# examples/against_coreutils.sh LS_L DU — the examples print what coreutils print, on a small tree
# made here: ls_l what `LC_ALL=C ls -ln` prints, du what `du -d N` prints.
set -eu
ls_l=$1
du_example=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree/sub/deep/deeper" "$tree/other"
printf 'hello\n' > "$tree/a.txt"
head -c 5000 /dev/zero > "$tree/b.bin"
head -c 70000 /dev/zero > "$tree/sub/deep/c"
ln "$tree/a.txt" "$tree/hard"                 # counted once by du
ln -s a.txt "$tree/link"
ln -s nowhere "$tree/dangling"
ln -s sub "$tree/dirlink"
mkfifo "$tree/fifo"
: > "$tree/.hidden"
touch -d '2020-01-02 03:04' "$tree/old.txt"    # more than six months ago: the year, not the time
touch -d '2099-01-01 00:00' "$tree/future.txt"

"$ls_l" "$tree" > "$work/ours"
LC_ALL=C ls -ln "$tree" > "$work/theirs"
diff -u "$work/theirs" "$work/ours"

for depth in 0 1 5; do
    for top in "$tree" "$tree/" "$tree/sub"; do
        "$du_example" -d "$depth" "$top" > "$work/ours"
        du -d "$depth" "$top" > "$work/theirs"
        diff -u "$work/theirs" "$work/ours"
    done
done
