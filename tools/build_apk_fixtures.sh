#!/usr/bin/env bash
# Build the APK test fixtures in tests/fixtures/apk/ from the sources in
# tests/fixtures/apk/src/, with Debian's Android tools only (nothing is
# downloaded). The built files are committed, so `make test` never needs this
# toolchain; run this script only to change or add a fixture.
#
# Required Debian packages (Debian 12 "bookworm"):
#   aapt                   aapt package / aapt add / aapt dump
#   apksigner              v1/v2/v3 signing
#   zipalign               4-byte alignment
#   android-framework-res  /usr/share/android-framework-res/framework-res.apk (-I for aapt)
#   libsmali-java          smali assembler (.smali -> classes.dex)
#   default-jdk-headless   java and keytool (any JDK >= 11 will do)
#   python3                make_zips.py (bundles and broken files; stdlib only)
# Install them with:
#   apt-get update && apt-get install -y aapt apksigner zipalign \
#       android-framework-res libsmali-java default-jdk-headless
#
# Usage: tools/build_apk_fixtures.sh [--new-keys]
#   --new-keys   throw away the committed signing keys in src/keys/ and make
#                new ones (changes every signer certificate and sha256).
#
# The script is idempotent: it rewrites every fixture, SHA256SUMS and the
# sha256 table in tests/fixtures/apk/README.md. With the committed keys the
# output is byte-for-byte the same on every run (aapt, smali and apksigner use
# no timestamps; make_zips.py uses a fixed one).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/tests/fixtures/apk"
SRC="$OUT/src"
APPS="$SRC/apps"
KEYS="$SRC/keys"
FRAMEWORK_RES=/usr/share/android-framework-res/framework-res.apk
SMALI_JAR=/usr/share/java/smali.jar  # its manifest's Class-Path lists dexlib2, guava, antlr3, jcommander
KS_PASS=fixture-only                 # throw-away test keys: the password is not a secret

NEW_KEYS=0
for arg in "$@"; do
    case "$arg" in
        --new-keys) NEW_KEYS=1 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# ---------------------------------------------------------------- toolchain
missing=()
for pkg in aapt apksigner zipalign android-framework-res libsmali-java; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
for cmd in java keytool; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("default-jdk-headless (for $cmd)")
done
command -v python3 >/dev/null 2>&1 || missing+=("python3")
if ((${#missing[@]})); then
    {
        echo "build_apk_fixtures: missing Debian packages: ${missing[*]}"
        echo "install them with:"
        echo "  apt-get update && apt-get install -y aapt apksigner zipalign \\"
        echo "      android-framework-res libsmali-java default-jdk-headless"
    } >&2
    exit 1
fi
for f in "$FRAMEWORK_RES" "$SMALI_JAR"; do
    [[ -f "$f" ]] || { echo "build_apk_fixtures: $f not found (package installed but file moved?)" >&2; exit 1; }
done

BUILD=$(mktemp -d "${TMPDIR:-/tmp}/apk-fixtures.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT

log() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- keys
# name|distinguished name|validity in days. Created once and committed, so
# that rebuilding gives the same certificates.
KEY_SPECS=(
    "scam_aaa|CN=aaa|10000"
    "scam_unknown|CN=Unknown, OU=Unknown, O=Unknown, L=Unknown, ST=Unknown, C=Unknown|10000"
    "example_notes|CN=Example Notes, O=Example, C=VN|9131"
    "android_debug|CN=Android Debug, O=Android, C=US|10950"
)
mkdir -p "$KEYS"
for spec in "${KEY_SPECS[@]}"; do
    IFS='|' read -r name dname days <<<"$spec"
    ks="$KEYS/$name.p12"
    if ((NEW_KEYS)) || [[ ! -f "$ks" ]]; then
        log "keytool: $name ($dname, $days days from now)"
        rm -f "$ks"
        keytool -genkeypair -noprompt -storetype PKCS12 -keystore "$ks" \
            -storepass "$KS_PASS" -keypass "$KS_PASS" -alias "$name" \
            -keyalg RSA -keysize 2048 -sigalg SHA256withRSA \
            -validity "$days" -dname "$dname" >/dev/null 2>&1
    fi
done

# ---------------------------------------------------------------- helpers
# compile APP_DIR OUT_APK: resources + manifest with aapt, classes.dex from
# smali/ (if the app has one) added with `aapt add`. Unaligned, unsigned.
compile() {
    local app=$1 out=$2 work
    work="$BUILD/work.$(basename "$out")"
    mkdir -p "$work"
    local res=()
    [[ -d "$app/res" ]] && res=(-S "$app/res")
    aapt package -f -M "$app/AndroidManifest.xml" "${res[@]}" -I "$FRAMEWORK_RES" -F "$out" >/dev/null
    if [[ -d "$app/smali" ]]; then
        java -jar "$SMALI_JAR" assemble --api 21 --jobs 1 -o "$work/classes.dex" "$app/smali"
        (cd "$work" && aapt add "$out" classes.dex >/dev/null)
    fi
}

align() { zipalign -f 4 "$1" "$2"; }

# sign KEY IN OUT [apksigner options]: v1+v2+v3 unless told otherwise, no v4
# (v4 writes a separate .idsig file). The v1 files are META-INF/CERT.{SF,RSA},
# the usual name, so that the key's alias shows nowhere in the APK.
sign() {
    local key=$1 in=$2 out=$3
    shift 3
    apksigner sign --ks "$KEYS/$key.p12" --ks-pass "pass:$KS_PASS" --ks-key-alias "$key" \
        --v1-signing-enabled true --v2-signing-enabled true --v3-signing-enabled true \
        --v4-signing-enabled false --v1-signer-name CERT "$@" --out "$out" "$in"
}

# app NAME KEY [apksigner options]: src/apps/NAME -> OUT/NAME.apk
app() {
    local name=$1 key=$2
    shift 2
    log "$name.apk (signed with $key${*:+, $*})"
    compile "$APPS/$name" "$BUILD/$name.unaligned.apk"
    align "$BUILD/$name.unaligned.apk" "$BUILD/$name.aligned.apk"
    sign "$key" "$BUILD/$name.aligned.apk" "$OUT/$name.apk" "$@"
}

# ---------------------------------------------------------------- APKs
app fake_dichvucong scam_aaa
app fake_vneid scam_unknown
app benign_notes example_notes
app hidden_launcher scam_aaa
app debug_signed android_debug --v2-signing-enabled false --v3-signing-enabled false
app premium_sms example_notes
app dropper_bank example_notes
app overlay_banker scam_unknown
app rat_stage scam_aaa
app odd_strings example_notes

log "unsigned.apk (aligned, not signed)"
compile "$APPS/unsigned" "$BUILD/unsigned.unaligned.apk"
align "$BUILD/unsigned.unaligned.apk" "$OUT/unsigned.apk"

log "bad_dex.apk (fake_dichvucong manifest and resources, classes.dex garbage after its header)"
mkdir -p "$BUILD/bad_dex"
java -jar "$SMALI_JAR" assemble --api 21 --jobs 1 -o "$BUILD/good.dex" "$APPS/fake_dichvucong/smali"
dex_size=$(stat -c %s "$BUILD/good.dex")
# Keep the 0x70-byte header (magic, offsets, sizes), fill the rest with 0xFF:
# every string/type/method offset now points at garbage and the checksum fails.
{ head -c 112 "$BUILD/good.dex"; head -c $((dex_size - 112)) /dev/zero | tr '\0' '\377'; } \
    >"$BUILD/bad_dex/classes.dex"
aapt package -f -M "$APPS/fake_dichvucong/AndroidManifest.xml" -S "$APPS/fake_dichvucong/res" \
    -I "$FRAMEWORK_RES" -F "$BUILD/bad_dex.unaligned.apk" >/dev/null
(cd "$BUILD/bad_dex" && aapt add "$BUILD/bad_dex.unaligned.apk" classes.dex >/dev/null)
align "$BUILD/bad_dex.unaligned.apk" "$BUILD/bad_dex.aligned.apk"
sign scam_aaa "$BUILD/bad_dex.aligned.apk" "$OUT/bad_dex.apk"

log "bundle base and config.arm64_v8a split (signed with example_notes)"
compile "$APPS/bundle_base" "$BUILD/bundle_base.unaligned.apk"
align "$BUILD/bundle_base.unaligned.apk" "$BUILD/bundle_base.aligned.apk"
sign example_notes "$BUILD/bundle_base.aligned.apk" "$BUILD/bundle_base.apk"
compile "$APPS/bundle_split_arm64_v8a" "$BUILD/bundle_split.unaligned.apk"
align "$BUILD/bundle_split.unaligned.apk" "$BUILD/bundle_split.aligned.apk"
sign example_notes "$BUILD/bundle_split.aligned.apk" "$BUILD/bundle_split.apk"

# Inputs for make_zips.py: the notes app unsigned (traversal.apk) and its dex
# (no_manifest.apk).
cp "$BUILD/benign_notes.unaligned.apk" "$BUILD/benign_notes.unsigned.apk"
cp "$BUILD/work.benign_notes.unaligned.apk/classes.dex" "$BUILD/benign_notes.dex"

log "bundles and broken files (make_zips.py)"
python3 "$SRC/make_zips.py" "$OUT" "$BUILD"

# ---------------------------------------------------------------- checksums
FIXTURES=(
    fake_dichvucong.apk fake_vneid.apk benign_notes.apk hidden_launcher.apk
    debug_signed.apk unsigned.apk bad_dex.apk bundle.xapk bundle.apks
    truncated.apk not_zip.apk windows.apk no_manifest.apk traversal.apk
    zip_bomb.apk many_entries.apk premium_sms.apk dropper_bank.apk overlay_banker.apk
    rat_stage.apk odd_strings.apk
)
(cd "$OUT" && sha256sum "${FIXTURES[@]}") >"$OUT/SHA256SUMS"

# Refresh the table between the markers in README.md, if it has them.
README="$OUT/README.md"
if [[ -f "$README" ]] && grep -q '<!-- sha256:begin -->' "$README"; then
    table="$BUILD/table.md"
    {
        echo '| file | bytes | sha256 |'
        echo '| --- | ---: | --- |'
        for f in "${FIXTURES[@]}"; do
            # shellcheck disable=SC2016  # the backquotes are Markdown
            printf '| `%s` | %s | `%s` |\n' "$f" "$(stat -c %s "$OUT/$f")" \
                "$(sha256sum "$OUT/$f" | cut -d' ' -f1)"
        done
    } >"$table"
    awk -v table="$table" '
        /<!-- sha256:begin -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
        /<!-- sha256:end -->/ { skip = 0 }
        !skip { print }
    ' "$README" >"$BUILD/README.md"
    cat "$BUILD/README.md" >"$README"
fi

# The parse children's warm-up sample (scanners/_apk_worker.py, WARM_UP_APK).
cp "$OUT/fake_dichvucong.apk" "$ROOT/scanners/warm_up.apk"

log "done: $(du -cb "${FIXTURES[@]/#/$OUT/}" | tail -1 | cut -f1) bytes in ${#FIXTURES[@]} fixtures"
