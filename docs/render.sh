#!/usr/bin/env bash
# docs/render.sh [WORKBOOK] : render the README's picture of a step sheet from a real
# workbook, as LibreOffice (headless, recalculating on load) shows it.
# Needs libreoffice-calc-nogui and poppler-utils.
set -euo pipefail
cd "$(dirname "$0")/.."
book=${1:-output/seed-mlp.xlsx}
[ -f "$book" ] || stepviz run >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/profile/user"
cat > "$work/profile/user/registrymodifications.xcu" <<'XCU'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
XCU
cp "$book" "$work/book.xlsx"
soffice "-env:UserInstallation=file://$work/profile" --headless --norestore --nolockcheck \
  --convert-to 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}' \
  --outdir "$work" "$work/book.xlsx" >/dev/null
# page 1 is the Overview; page 1+N is step N of the first detailed epoch
for step in 11 5; do
  pdftoppm -r 110 -png -f $((step + 1)) -l $((step + 1)) -singlefile "$work/book.pdf" "docs/step-$step"
done
echo "wrote docs/step-11.png docs/step-5.png"
