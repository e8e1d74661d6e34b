#!/usr/bin/env bash
# Regenerate the real scanner outputs in evidence/ for this example app.
#
#   python3 -m venv ~/.venvs/scanners && ~/.venvs/scanners/bin/pip install checkov bandit semgrep "cfn-lint[sarif]"
#   PATH=~/.venvs/scanners/bin:$PATH examples/phi-app/scan.sh
#
# The scanners are not dependencies of sckb: install them anywhere (a throwaway venv is fine).
# Every tool runs offline (checkov --skip-download, semgrep with the rules in semgrep-rules/ only,
# metrics off) from inside this folder with relative paths, so no machine path ends up in the output.
# Exit codes are ignored: scanners exit non-zero when they find something, which is the point here.
set -u
cd "$(dirname "$0")"
out=evidence
mkdir -p "$out"

export BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true
checkov -d . --framework cloudformation secrets --skip-path evidence --skip-path semgrep-rules \
  --skip-download --compact -o json --output-file-path "$out/checkov" > /dev/null
mv "$out/checkov/results_json.json" "$out/checkov.json"
rmdir "$out/checkov"

bandit -q -r src -f json -o "$out/bandit.json"

semgrep scan --config semgrep-rules --metrics=off --disable-version-check --quiet \
  --json-output="$out/semgrep.json" src template.yaml > /dev/null

cfn-lint -f sarif -- template.yaml > "$out/cfn-lint.sarif"

# checkov writes the scan root into file_abs_path: make it relative to this folder
sed -i "s#$PWD/##g" "$out/checkov.json"

# no absolute path of the machine that ran the scan may stay in the committed output
if grep -l "$PWD" "$out"/*.json "$out"/*.sarif "$out"/*.yaml; then
  echo "scan.sh: absolute paths found in the files above" >&2
  exit 1
fi
echo "scan.sh: wrote $(ls "$out" | tr '\n' ' ')"
