#!/usr/bin/env bash
# strongroom encrypt/decrypt of one large file vs age (Debian's package) and
# vs cat (the I/O ceiling), all on the same file in one run: best and median
# wall time over REPEAT interleaved rounds, throughput, ratios to cat and to
# age, CPU time, and peak RSS as /usr/bin/time reports it (%M, the "Maximum
# resident set size" line of -v).
#
#   bash benches/files_vs_age.sh                 # 1 GiB in /dev/shm, 5 rounds
#   SIZE_MIB=64 REPEAT=1 bash benches/files_vs_age.sh   # quick smoke run
#   BENCH_DIR=/var/tmp bash benches/files_vs_age.sh     # on a disk instead
#
# Needs: age (apt-get install age), GNU time (apt-get install time). The
# strongroom keyring is sealed by a key file, as age uses an X25519 identity
# file: neither side pays for a passphrase KDF. Results go to stdout as a
# markdown table; BENCHMARKS.md keeps the measured ones.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
REPEAT=${REPEAT:-5}
BENCH_DIR=${BENCH_DIR:-/dev/shm}

for tool in age age-keygen /usr/bin/time; do
    command -v "$tool" >/dev/null || {
        echo "files_vs_age: $tool not found (apt-get install age time)" >&2
        exit 1
    }
done

cargo build --release --locked --quiet -p strongroom-cli
sr="$PWD/target/release/strongroom"

work=$(mktemp -d "$BENCH_DIR/strongroom-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

head -c "$((SIZE_MIB << 20))" /dev/urandom > plain.bin
age-keygen -o age-id.txt 2>/dev/null
age_rcpt=$(age-keygen -y age-id.txt)
head -c 32 /dev/urandom > root.key   # a throwaway test root, deleted after
chmod 600 root.key
export STRONGROOM_KEYRING="$work/keyring.srk" STRONGROOM_KEY_FILE="$work/root.key"
"$sr" keyring init --key files >/dev/null

# The runs: NAME|OUTPUT|COMMAND. Rounds interleave them (each round runs
# every command once, its output removed first, the page cache warm), so
# that the noise of a shared VM falls on every tool alike.
runs=(
    "cat|copy.bin|cat plain.bin > copy.bin"
    "strongroom-encrypt|plain.sr|$sr encrypt --key files -o plain.sr plain.bin"
    "strongroom-encrypt-1-thread|plain1.sr|$sr --threads 1 encrypt --key files -o plain1.sr plain.bin"
    "age-encrypt|plain.age|age -r $age_rcpt -o plain.age plain.bin"
    "strongroom-decrypt|back.sr.bin|$sr decrypt -o back.sr.bin plain.sr"
    "strongroom-decrypt-1-thread|back.sr1.bin|$sr --threads 1 decrypt -o back.sr1.bin plain.sr"
    "age-decrypt|back.age.bin|age -d -i age-id.txt -o back.age.bin plain.age"
)
: > times.txt
for round in $(seq "$REPEAT"); do
    for run in "${runs[@]}"; do
        IFS='|' read -r name out cmd <<< "$run"
        rm -f "$out"
        /usr/bin/time -f "$name %e %U %S %M" -a -o times.txt sh -c "$cmd"
    done
done

# Every decryption gave the plaintext back, and the two thread counts wrote
# files that decrypt the same.
cmp plain.bin back.sr.bin
cmp plain.bin back.sr1.bin
cmp plain.bin back.age.bin
"$sr" decrypt plain1.sr | cmp plain.bin -

echo "## strongroom vs age vs cat: ${SIZE_MIB} MiB in $BENCH_DIR, $REPEAT interleaved rounds"
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "files: $(df -T "$BENCH_DIR" | awk 'NR==2{print $2}') at $BENCH_DIR; strongroom $("$sr" --version | cut -d' ' -f2) (release), age $(age --version)"
echo "sizes: plaintext $(stat -c %s plain.bin) B, strongroom $(stat -c %s plain.sr) B, age $(stat -c %s plain.age) B"
echo
# Per run: best and median wall time, median CPU time (user + system),
# largest peak RSS over the rounds.
sort -k1,1 -k2,2n times.txt | awk -v mib="$SIZE_MIB" -v order="$(printf '%s\n' "${runs[@]}" | cut -d'|' -f1 | tr '\n' ' ')" '
    {
        n[$1]++; wall[$1, n[$1]] = $2; cpu[$1, n[$1]] = $3 + $4
        if ($5 > rss[$1]) rss[$1] = $5
    }
    function median(a, name, k,    i, j, v, tmp) {
        for (i = 1; i <= k; i++) tmp[i] = a[name, i]
        for (i = 2; i <= k; i++) { v = tmp[i]; for (j = i - 1; j >= 1 && tmp[j] > v; j--) tmp[j + 1] = tmp[j]; tmp[j + 1] = v }
        return (k % 2) ? tmp[(k + 1) / 2] : (tmp[k / 2] + tmp[k / 2 + 1]) / 2
    }
    END {
        split(order, names, " ")
        for (i in names) {
            m = names[i]; best[m] = wall[m, 1]; med[m] = median(wall, m, n[m]); cmed[m] = median(cpu, m, n[m])
            if (best[m] < 0.01) best[m] = 0.01; if (med[m] < 0.01) med[m] = 0.01   # time(1) resolution
        }
        print "| run | best wall s | median wall s | MiB/s (best) | median / cat | median / age (same op) | median CPU s | peak RSS MiB |"
        print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        for (i = 1; i <= length(names); i++) {
            m = names[i]; op = m ~ /decrypt/ ? "age-decrypt" : "age-encrypt"
            vs_age = (m == "cat") ? "" : sprintf("%.2f", med[m] / med[op])
            printf "| %s | %.2f | %.2f | %.0f | %.2f | %s | %.2f | %.1f |\n", m, best[m], med[m], mib / best[m], med[m] / med["cat"], vs_age, cmed[m], rss[m] / 1024
        }
    }'
