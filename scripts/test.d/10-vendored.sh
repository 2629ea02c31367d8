#!/usr/bin/env bash
# Each vendored crate in third_party/ must be the published crate plus the patches listed for it
# below, applied in that order, and nothing else (third_party/README.md says why each patch
# exists). For each one: fetch the published crate through cargo (a throwaway project that
# depends on it without the workspace's [patch]), apply the patches to a copy and compare the
# trees. Any drift fails loudly, with the diff.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check NAME VERSION PATCH...: third_party/NAME = published NAME VERSION + the PATCHes, in order.
check() {
  local name=$1 version=$2
  shift 2
  local patches=("$@") dir="$work/$name"
  # Every patch file for this crate must be listed, so none is left out of the check.
  for p in third_party/"$name"-*.patch; do
    [ -e "$p" ] || continue
    # rten-simd-*.patch belongs to rten-simd, not to rten.
    local owner=
    for d in third_party/*/; do
      d=$(basename "$d")
      if [ ${#d} -gt ${#name} ] && [[ $(basename "$p") == "$d"-* ]]; then owner=$d; fi
    done
    [ -z "$owner" ] || continue
    if [[ " ${patches[*]} " != *" $(basename "$p") "* ]]; then
      echo "error: $p is not in the patch list of $0 for $name" >&2
      return 1
    fi
  done
  mkdir -p "$dir/probe/src"
  : > "$dir/probe/src/lib.rs"
  cat > "$dir/probe/Cargo.toml" <<TOML
[package]
name = "vendored-probe"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$name = "=$version"

[workspace]
TOML
  # The workspace's lock file pins the crate's own dependencies to versions already fetched.
  cp Cargo.lock "$dir/probe/Cargo.lock"
  cargo fetch --quiet --manifest-path "$dir/probe/Cargo.toml"
  local published
  published=$(cargo metadata --quiet --format-version 1 --manifest-path "$dir/probe/Cargo.toml" |
    NAME=$name python3 -c 'import json,os,sys
m = json.load(sys.stdin)
[p] = [p for p in m["packages"] if p["name"] == os.environ["NAME"] and p["source"]]
print(os.path.dirname(p["manifest_path"]))')
  [ -f "$published/Cargo.toml" ] || { echo "error: the published $name $version was not found" >&2; return 1; }
  cp -r "$published" "$dir/expected"
  # Written by cargo when it unpacks a crate; and the publisher's VCS note, if not kept.
  rm -f "$dir/expected/.cargo-ok"
  [ -e "third_party/$name/.cargo_vcs_info.json" ] || rm -f "$dir/expected/.cargo_vcs_info.json"
  for p in "${patches[@]}"; do
    if ! patch --quiet --batch --forward --no-backup-if-mismatch -p1 -d "$dir/expected" \
      < "third_party/$p" > "$dir/patch.log" 2>&1; then
      echo "error: third_party/$p does not apply to the published $name $version:" >&2
      cat "$dir/patch.log" >&2
      return 1
    fi
  done
  if ! diff -r "$dir/expected" "third_party/$name" > "$dir/drift.diff"; then
    echo "error: third_party/$name differs from the published $name $version + ${patches[*]}:" >&2
    cat "$dir/drift.diff" >&2
    echo "(make each change a patch in third_party/, list it in $0 and third_party/README.md)" >&2
    return 1
  fi
  echo "third_party/$name = $name $version + ${patches[*]}"
}

check rten 0.27.0 rten-depthwise.patch rten-few-outputs.patch rten-maxpool.patch rten-hardswish.patch rten-copies.patch rten-int8.patch
check rten-simd 0.27.0 rten-simd-force-avx2.patch
check hayro-syntax 0.9.0 hayro-syntax-budget.patch
check hayro-interpret 0.9.0 hayro-interpret-budget.patch hayro-interpret-lazy-cmyk.patch
